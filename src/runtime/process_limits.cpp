// Process-wide settings for a run: TBB's parallelism ceiling, the open-files limit, SIGPIPE.
#include "runtime/process_limits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>

namespace sluice {

ProcessLimits::ProcessLimits(int threads) : ceiling_(threads) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const rlim_t ceiling = rlim_t{1} << 20;
    rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? ceiling : std::min(limit.rlim_max, ceiling);
    if (limit.rlim_cur < wanted) {
      limit.rlim_cur = wanted;
      (void)setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
}

void ignore_sigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace sluice
