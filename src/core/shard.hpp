// One feed split across N workers: which worker keeps which row.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/record.hpp"
#include "core/result.hpp"

namespace sluice {

struct Shard {
  std::uint32_t index = 0, count = 1;  // 0 <= index < count
  bool active() const { return count > 1; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

constexpr std::uint32_t kMaxShards = 1024;

// "I/N" (0 <= I < N <= 1024), or "auto/N", which takes I from the scheduler that started the worker:
// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), else SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN
// (a Slurm job array; an array 1-4 gives shards 0-3). `env` reads a variable (nullptr when unset).
Result<Shard> parse_shard(std::string_view text, const std::function<const char*(const char*)>& env);

// The shard of a row whose key has this text: XXH3-64 (seed 0) of the text's bytes, modulo count. It
// never changes across runs, machines or releases: workers of one run agree on every row without
// talking to each other.
std::uint32_t shard_of(std::string_view key, std::uint32_t count);

// The text --shard hashes: the key field's value as the source read it (a number in its canonical
// form, an empty or missing key as "").
std::string shard_key_text(const Value& key);

// Keeps the batch's records whose key is in `shard` and returns how many it dropped. Rows without a
// record (the source's rejects, rows that are not products) are all another worker's except worker
// 0's, so that every row of the feed is counted by exactly one worker.
std::uint64_t keep_shard(Batch& batch, const Shard& shard, std::size_t key_field);

}  // namespace sluice
