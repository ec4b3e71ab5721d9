// The rerun snapshot: lookups, in-place updates, colliding keys.
#include "nodes/sink/pg_snapshot.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sluice {
namespace {

TEST(KeySnapshot, FindsEveryKeyItWasGivenAndNoOther) {
  std::mt19937_64 rng(7);
  KeySnapshot s;
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 100000; ++i) {
    keys.push_back(rng());
    s.add(keys.back(), static_cast<std::int64_t>(i));
  }
  s.seal();
  EXPECT_EQ(s.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::int64_t* h = s.find(keys[i]);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(*h, static_cast<std::int64_t>(i));
  }
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(s.find(rng()), nullptr);
  EXPECT_LE(s.bytes(), keys.size() * 20 + 64);  // the documented ceiling
}

TEST(KeySnapshot, KeepsUpdatesMadeThroughFind) {
  KeySnapshot s;
  s.add(42, 1);
  s.seal();
  *s.find(42) = 2;
  EXPECT_EQ(*s.find(42), 2);
}

TEST(KeySnapshot, CollidingKeysMatchNoRowHash) {
  KeySnapshot s;
  s.add(5, 10);
  s.add(5, 11);
  s.add(0, 1);
  s.add(~std::uint64_t{0}, 2);  // the extremes of the directory
  s.seal();
  EXPECT_EQ(*s.find(5), KeySnapshot::ambiguous);
  EXPECT_EQ(*s.find(0), 1);
  EXPECT_EQ(*s.find(~std::uint64_t{0}), 2);
}

TEST(KeySnapshot, AnEmptySnapshotFindsNothing) {
  KeySnapshot s;
  EXPECT_EQ(s.find(1), nullptr);
  s.seal();
  EXPECT_EQ(s.find(1), nullptr);
}

}  // namespace
}  // namespace sluice
