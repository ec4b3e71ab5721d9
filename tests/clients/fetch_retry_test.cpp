// Tests for the wait before a retry: full-jitter backoff within its ceiling, Retry-After first.
#include "clients/fetch_retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sluice {
namespace {

TEST(FetchRetry, BackoffStaysUnderADoublingCeilingAndUsesItsRange) {
  FetchPolicy p;
  p.backoff_initial_ms = 100;
  p.backoff_max_ms = 1000;
  const struct {
    int attempts;
    long ceiling;
  } cases[] = {{1, 100}, {2, 200}, {3, 400}, {4, 800}, {5, 1000}, {40, 1000}};
  std::mt19937_64 rng(7);
  for (const auto& c : cases) {
    long low = c.ceiling, high = 0;
    for (int i = 0; i < 2000; ++i) {
      const long d = backoff_ms(p, c.attempts, rng);
      low = std::min(low, d);
      high = std::max(high, d);
    }
    EXPECT_GE(low, 0) << c.attempts;
    EXPECT_LE(high, c.ceiling) << c.attempts;
    // Jittered over the whole range, not a fixed step.
    EXPECT_LT(low, c.ceiling / 10) << c.attempts;
    EXPECT_GT(high, c.ceiling * 9 / 10) << c.attempts;
  }
}

TEST(FetchRetry, RetryAfterWinsUpToItsCap) {
  FetchPolicy p;
  p.backoff_initial_ms = 100;
  p.backoff_max_ms = 100;
  p.retry_after_cap_ms = 3000;
  const struct {
    long long retry_after_s;
    long low, high;
  } cases[] = {
      {0, 0, 100},                       // none sent: the backoff
      {1, 1000, 1000},                   // honoured
      {3, 3000, 3000},                   // at the cap
      {4, 3000, 3000},                   // capped
      {9223372036854775807, 3000, 3000},  // no overflow
  };
  std::mt19937_64 rng(7);
  for (const auto& c : cases) {
    const long d = retry_delay_ms(p, 1, c.retry_after_s, rng);
    EXPECT_GE(d, c.low) << c.retry_after_s;
    EXPECT_LE(d, c.high) << c.retry_after_s;
  }
}

}  // namespace
}  // namespace sluice
