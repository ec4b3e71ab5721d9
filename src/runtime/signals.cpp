// A thread that waits for SIGINT/SIGTERM with sigtimedwait, so no work happens in a signal handler.
#include "runtime/signals.hpp"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>

namespace sluice {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void(int)> on_first) {
  thread_ = std::thread([this, on_first = std::move(on_first)] {
    sigset_t set = stop_signals();
    int seen = 0;
    while (!done_.load()) {
      timespec wait{0, 100'000'000};
      int sig = sigtimedwait(&set, nullptr, &wait);
      if (sig <= 0) continue;
      if (++seen == 1) {
        static const char msg[] = "sluice: stopping (signal again to abort at once)\n";
        (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
        try {
          on_first(sig);
        } catch (...) {
          // The graceful stop failed; stopping at once still leaves no half-written batch.
          static const char failed[] = "sluice: cannot stop gracefully; aborted\n";
          (void)!::write(STDERR_FILENO, failed, sizeof failed - 1);
          std::_Exit(130);
        }
      } else {
        static const char msg[] = "sluice: aborted\n";
        (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
        std::_Exit(130);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  done_ = true;
  thread_.join();
}

}  // namespace sluice
