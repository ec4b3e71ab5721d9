// TBB's process-wide parallelism ceiling, kept in the layer that owns TBB.
#include "graph/thread_ceiling.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <optional>

namespace sluice {

struct ThreadCeiling::Impl {
  std::optional<oneapi::tbb::global_control> parallelism;
};

ThreadCeiling::ThreadCeiling(int threads) : impl_(std::make_unique<Impl>()) {
  if (threads > oneapi::tbb::info::default_concurrency())
    impl_->parallelism.emplace(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
}

ThreadCeiling::~ThreadCeiling() = default;

}  // namespace sluice
