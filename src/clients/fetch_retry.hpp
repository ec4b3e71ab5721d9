// When a failed download attempt is tried again.
#pragma once

#include <random>

#include "clients/http_fetcher.hpp"

namespace sluice {

// Full jitter: uniform in [0, min(backoff_max_ms, backoff_initial_ms * 2^(attempts - 1))].
long backoff_ms(const FetchPolicy& policy, int attempts, std::mt19937_64& rng);

// The wait before the next attempt: the server's Retry-After (whole seconds; 0 when it sent none)
// wins over the backoff, up to retry_after_cap_ms.
long retry_delay_ms(const FetchPolicy& policy, int attempts, long long retry_after_s, std::mt19937_64& rng);

}  // namespace sluice
