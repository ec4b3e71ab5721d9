// How many worker threads the flow graph may run at once, above the core count if asked.
#pragma once

#include <memory>

namespace sluice {

// For the life of the object, runs may use `threads` workers even when that is more than the cores
// (TBB caps its workers at the core count otherwise). 0, or no more than the cores: nothing changes.
class ThreadCeiling {
 public:
  explicit ThreadCeiling(int threads);
  ~ThreadCeiling();
  ThreadCeiling(const ThreadCeiling&) = delete;
  ThreadCeiling& operator=(const ThreadCeiling&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
