// When a failed download attempt is tried again.
#include "clients/fetch_retry.hpp"

#include <algorithm>

namespace sluice {

long backoff_ms(const FetchPolicy& policy, int attempts, std::mt19937_64& rng) {
  long ceiling = std::max(0L, policy.backoff_initial_ms);
  for (int i = 1; i < attempts && ceiling < policy.backoff_max_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, std::max(0L, policy.backoff_max_ms));
  return std::uniform_int_distribution<long>(0, ceiling)(rng);
}

long retry_delay_ms(const FetchPolicy& policy, int attempts, long long retry_after_s, std::mt19937_64& rng) {
  const long backoff = backoff_ms(policy, attempts, rng);  // drawn either way: one draw per retry
  if (retry_after_s <= 0) return backoff;
  // Capped in seconds first, so that no multiplication can overflow.
  const long long cap_s = policy.retry_after_cap_ms / 1000 + 1;
  return std::min(static_cast<long>(std::min(retry_after_s, cap_s)) * 1000, policy.retry_after_cap_ms);
}

}  // namespace sluice
