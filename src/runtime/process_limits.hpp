// Process-wide settings a run needs, set once at start-up by the command line, never by library code.
#pragma once

#include "graph/thread_ceiling.hpp"

namespace sluice {

// For the life of the object: TBB may run `threads` workers even above the core count (a run that
// asks for more threads than cores gets them), and the soft limit on open files is raised to the
// hard limit (every transfer in flight holds a socket). 0 threads = leave TBB's default.
class ProcessLimits {
 public:
  explicit ProcessLimits(int threads);
  ProcessLimits(const ProcessLimits&) = delete;
  ProcessLimits& operator=(const ProcessLimits&) = delete;

 private:
  ThreadCeiling ceiling_;
};

// Writes to a closed pipe fail with EPIPE (reported as an error of the output) instead of killing the
// process before it can print its summary and record the run.
void ignore_sigpipe();

}  // namespace sluice
