// --shard: its arguments, the row-to-shard hash that workers on other machines must agree on, and the
// split of a batch so that every row of the feed is counted by exactly one worker.
#include "core/shard.hpp"

#include <gtest/gtest.h>

#include <map>

namespace sluice {
namespace {

Result<Shard> parse(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_shard(text, [&env](const char* name) -> const char* {
    auto at = env.find(name);
    return at == env.end() ? nullptr : at->second.c_str();
  });
}

TEST(Shard, ParsesAnIndexAndACount) {
  auto s = parse("2/4");
  ASSERT_TRUE(s) << s.error;
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 4u);
  EXPECT_TRUE(s->active());
  EXPECT_EQ(s->text(), "2/4");
  EXPECT_FALSE(parse("0/1")->active());
}

TEST(Shard, RefusesWhatIsNotAShard) {
  for (const char* bad : {"", "4", "4/4", "5/4", "-1/4", "1/0", "a/4", "1/b", "1/4/2", "1 /4", "0/1025", "/4", "1/"})
    EXPECT_FALSE(parse(bad)) << bad;
  EXPECT_NE(parse("4/4").error.find("numbered from 0"), std::string::npos);
}

TEST(Shard, AutoTakesTheIndexFromTheScheduler) {
  EXPECT_EQ(parse("auto/4", {{"JOB_COMPLETION_INDEX", "3"}})->index, 3u);
  EXPECT_EQ(parse("auto/4", {{"SLURM_ARRAY_TASK_ID", "2"}})->index, 2u);
  // An array numbered 1-4 gives shards 0-3.
  EXPECT_EQ(parse("auto/4", {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}})->index, 3u);
  // Kubernetes first, when both are set.
  EXPECT_EQ(parse("auto/4", {{"JOB_COMPLETION_INDEX", "1"}, {"SLURM_ARRAY_TASK_ID", "2"}})->index, 1u);
  EXPECT_NE(parse("auto/4").error.find("neither is set"), std::string::npos);
  EXPECT_FALSE(parse("auto/4", {{"JOB_COMPLETION_INDEX", "4"}}));
  EXPECT_FALSE(parse("auto/4", {{"JOB_COMPLETION_INDEX", "x"}}));
  EXPECT_FALSE(parse("auto/4", {{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "1"}}));
}

// Workers on other machines and releases must agree: these values are part of the interface.
TEST(Shard, TheHashOfAKeyNeverChanges) {
  EXPECT_EQ(shard_of("S1", 4), 0u);
  EXPECT_EQ(shard_of("S2", 4), 1u);
  EXPECT_EQ(shard_of("acme-42", 4), 0u);
  EXPECT_EQ(shard_of("", 4), 2u);
  EXPECT_EQ(shard_of("12345", 4), 1u);
  EXPECT_EQ(shard_of("S1", 1024), 876u);
  EXPECT_EQ(shard_of("12345", 1024), 385u);
  EXPECT_EQ(shard_key_text(Value{std::int64_t{12345}}), "12345");
  EXPECT_EQ(shard_key_text(Value{}), "");
  EXPECT_EQ(shard_key_text(Value{Decimal::from_units(150, 2)}), "1.50");
}

Batch batch(int rows) {
  Batch b;
  for (int i = 0; i < rows; ++i) {
    Record r;
    r.line = static_cast<std::uint64_t>(i + 2);
    r.values = {Value{"S" + std::to_string(i)}, Value{std::int64_t{i}}};
    b.records.push_back(std::move(r));
  }
  b.rejects.push_back(Reject{1000, "read", "ragged_row", "too many fields", {}});
  b.skipped = 2;
  return b;
}

TEST(Shard, EveryRowIsCountedByExactlyOneWorker) {
  const std::uint32_t n = 3;
  std::map<std::string, int> kept_by;
  std::uint64_t rejects = 0, skipped = 0, other = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    Batch b = batch(1000);
    other += keep_shard(b, Shard{i, n}, 0);
    for (const auto& r : b.records) {
      const auto& key = std::get<std::string>(r.values[0]);
      EXPECT_EQ(shard_of(key, n), i);
      ++kept_by[key];
    }
    rejects += b.rejects.size();
    skipped += b.skipped;
    if (i != 0) {
      EXPECT_TRUE(b.rejects.empty());
    }
  }
  EXPECT_EQ(kept_by.size(), 1000u);
  for (const auto& [key, times] : kept_by) EXPECT_EQ(times, 1) << key;
  EXPECT_EQ(rejects, 1u);  // worker 0 reports the rows without a record
  EXPECT_EQ(skipped, 2u);
  // Each worker read 1,003 rows; what it did not keep, the others did.
  EXPECT_EQ(other, 2u * 1003u);
  Batch all = batch(10);
  EXPECT_EQ(keep_shard(all, Shard{}, 0), 0u);
  EXPECT_EQ(all.records.size(), 10u);
}

}  // namespace
}  // namespace sluice
