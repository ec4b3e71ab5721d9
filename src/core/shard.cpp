// Shard arguments and the stable row-to-shard hash.
#include "core/shard.hpp"

#include <xxhash.h>

#include <charconv>

namespace sluice {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<Shard> parse_shard(std::string_view text, const std::function<const char*(const char*)>& env) {
  auto slash = text.find('/');
  const std::string usage = "--shard takes I/N (0 <= I < N <= " + std::to_string(kMaxShards) + ") or auto/N, not '" +
                            std::string(text) + "'";
  if (slash == std::string_view::npos) return Result<Shard>::failure(usage);
  auto count = number(text.substr(slash + 1));
  if (!count || *count < 1 || *count > kMaxShards) return Result<Shard>::failure(usage);
  std::string_view which = text.substr(0, slash);
  std::optional<std::uint64_t> index;
  if (which == "auto") {
    if (const char* k8s = env("JOB_COMPLETION_INDEX"); k8s && *k8s) {
      index = number(k8s);
      if (!index) return Result<Shard>::failure("JOB_COMPLETION_INDEX is '" + std::string(k8s) + "', not a number");
    } else if (const char* task = env("SLURM_ARRAY_TASK_ID"); task && *task) {
      index = number(task);
      std::optional<std::uint64_t> min = 0;
      if (const char* m = env("SLURM_ARRAY_TASK_MIN"); m && *m) min = number(m);
      if (!index || !min || *min > *index)
        return Result<Shard>::failure("SLURM_ARRAY_TASK_ID is '" + std::string(task) + "', not an array index");
      *index -= *min;
    } else {
      return Result<Shard>::failure(
          "--shard auto/N takes the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or "
          "SLURM_ARRAY_TASK_ID (a Slurm job array), and neither is set");
    }
  } else {
    index = number(which);
    if (!index) return Result<Shard>::failure(usage);
  }
  if (*index >= *count)
    return Result<Shard>::failure("shard index " + std::to_string(*index) + " is not below the shard count " +
                                  std::to_string(*count) + " (shards are numbered from 0)");
  return Result<Shard>::success(Shard{static_cast<std::uint32_t>(*index), static_cast<std::uint32_t>(*count)});
}

std::uint32_t shard_of(std::string_view key, std::uint32_t count) {
  return static_cast<std::uint32_t>(XXH3_64bits(key.data(), key.size()) % count);
}

std::string shard_key_text(const Value& key) {
  struct Text {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(const Decimal& d) const { return d.to_string(); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const Json& j) const { return j.text; }
  };
  return std::visit(Text{}, key);
}

std::uint64_t keep_shard(Batch& batch, const Shard& shard, std::size_t key_field) {
  if (!shard.active()) return 0;
  std::uint64_t other = 0;
  if (shard.index != 0) {
    other += batch.rejects.size() + batch.skipped;
    batch.rejects.clear();
    batch.skipped = 0;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.records.size(); ++i) {
    Record& r = batch.records[i];
    const bool mine = key_field >= r.values.size()
                          ? shard.index == 0
                          : shard_of(shard_key_text(r.values[key_field]), shard.count) == shard.index;
    if (!mine) {
      ++other;
      continue;
    }
    if (kept != i) batch.records[kept] = std::move(r);
    ++kept;
  }
  batch.records.resize(kept);
  return other;
}

}  // namespace sluice
