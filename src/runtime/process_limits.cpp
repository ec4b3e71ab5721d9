// Process-wide settings for a run: TBB's parallelism ceiling, the open-files limit, SIGPIPE.
#include "runtime/process_limits.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <sys/resource.h>

#include <csignal>
#include <optional>

namespace sluice {

struct ProcessLimits::Impl {
  std::optional<oneapi::tbb::global_control> parallelism;
};

ProcessLimits::ProcessLimits(int threads) : impl_(std::make_unique<Impl>()) {
  if (threads > oneapi::tbb::info::default_concurrency())
    impl_->parallelism.emplace(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
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

ProcessLimits::~ProcessLimits() = default;

void ignore_sigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace sluice
