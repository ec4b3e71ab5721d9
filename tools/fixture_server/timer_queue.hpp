// Min-heap of per-connection deadlines driving epoll_wait's timeout (latency, trickle pacing, closes).
#pragma once

#include <chrono>
#include <cstdint>
#include <queue>
#include <vector>

namespace sluice::fixture {

using Clock = std::chrono::steady_clock;

// Entries are never removed early: a connection that closes or reschedules just changes its
// token, and the stale entry is skipped when it comes due. That keeps scheduling O(log n).
class TimerQueue {
 public:
  struct Entry {
    Clock::time_point deadline;
    int fd;
    std::uint64_t token;
  };

  void schedule(Clock::time_point deadline, int fd, std::uint64_t token) { heap_.push({deadline, fd, token}); }

  // Milliseconds until the earliest deadline, rounded up so the loop never wakes early and spins;
  // -1 when nothing is scheduled.
  int timeout_ms(Clock::time_point now) const {
    if (heap_.empty()) return -1;
    const auto wait = heap_.top().deadline - now;
    if (wait <= Clock::duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return ms > 60'000 ? 60'000 : static_cast<int>(ms);
  }

  // Removes and returns the earliest entry if it is due at `now`.
  bool pop_due(Clock::time_point now, Entry& out) {
    if (heap_.empty() || heap_.top().deadline > now) return false;
    out = heap_.top();
    heap_.pop();
    return true;
  }

  std::size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.deadline > b.deadline; }
  };
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
};

}  // namespace sluice::fixture
