// SIGINT and SIGTERM during a run: the first stops the run gracefully, a second one ends the process.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace sluice {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts later; call it before
// any thread exists, so that only SignalWatcher ever sees the signals.
void block_stop_signals();

class SignalWatcher {
 public:
  // on_first runs on the watcher's thread at the first signal. At the second, the process ends at
  // once with exit code 130: open transactions roll back and unfinished files stay ".partial".
  explicit SignalWatcher(std::function<void(int)> on_first);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace sluice
