// The transfers waiting for a handle, in arrival order, with three rules: a host never has more than
// per_host transfers at once, never starts more than per_host_rate of them per second (when set),
// and a host's transfers start in its own order. Attempts waiting before a retry sleep here too, and
// go ahead of fresh work when due.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice {

struct QueuedHost;

// What the queue knows of a transfer; the fetch loop's task derives from it.
struct QueueEntry {
  QueuedHost* host = nullptr;
};

struct QueuedHost {
  std::string key;         // scheme://host:port
  std::size_t active = 0;  // transfers holding a handle
  std::size_t refs = 0;    // entries naming this host, until removed
  std::deque<QueueEntry*> blocked;
  bool listed = false;   // in the queue's list of hosts that may start one of their blocked entries
  bool pacing = false;   // waiting for next_start under the rate limit
  std::chrono::steady_clock::time_point next_start{};  // the rate limit's earliest next start
};

class FetchQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // per_host_rate: starts per second to one host; 0 = no limit.
  explicit FetchQueue(std::size_t per_host, double per_host_rate = 0);

  // Names the entry's host and queues it behind everything queued so far.
  void add(QueueEntry* entry, const std::string& host_key);

  // The next entry that may start at `now`, or null. The caller then calls started() for it, or
  // remove() when it could not be started.
  QueueEntry* next(Clock::time_point now);
  void started(QueueEntry* entry);
  // The entry gave its handle back; another of its host's may start.
  void stopped(QueueEntry* entry);

  void retry_at(QueueEntry* entry, Clock::time_point due);
  // Retries that are due go ahead of fresh work: they are older, and their callers waited longest.
  // Hosts whose rate limit allows a start again may start their waiting entries.
  void promote_due(Clock::time_point now);
  std::optional<Clock::time_point> next_due() const;
  std::size_t sleeping() const { return retry_heap_.size(); }

  // The entry is done (neither queued nor sleeping): its host is forgotten once no entry names it.
  void remove(QueueEntry* entry);
  void clear();

 private:
  struct Sleeper {
    Clock::time_point due;
    std::uint64_t order = 0;
    QueueEntry* entry = nullptr;
  };
  struct WakesLater {
    bool operator()(const Sleeper& a, const Sleeper& b) const {
      return a.due != b.due ? a.due > b.due : a.order > b.order;
    }
  };

  // Under the rate limit, the host cannot start before next_start: schedules its wake-up.
  bool paced(QueuedHost* host, Clock::time_point now);
  void forget_if_unused(QueuedHost* host);

  struct PaceWake {
    Clock::time_point due;
    QueuedHost* host = nullptr;
  };
  struct PaceLater {
    bool operator()(const PaceWake& a, const PaceWake& b) const { return a.due > b.due; }
  };

  std::size_t per_host_;
  Clock::duration interval_{0};  // between two starts to one host; zero = no rate limit
  std::vector<PaceWake> pace_heap_;
  std::unordered_map<std::string, QueuedHost> hosts_;
  std::deque<QueueEntry*> ready_;
  std::deque<QueuedHost*> unblocked_;
  std::vector<Sleeper> retry_heap_;
  std::uint64_t retry_order_ = 0;
};

}  // namespace sluice
