// Counters shared by all event loops: request and response counts, concurrency gauges, fail_first keys.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::fixture {

// Relaxed atomics: each counter is read on its own, and /stats is a snapshot, not a transaction.
class Stats {
 public:
  // Returns the 0-based index of this request since the last reset (the `ratio` fault hashes it).
  std::uint64_t count_request();
  void count_conditional() { conditional_requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_head() { head_requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_response(int status);
  void count_body_sent() { bodies_sent_.fetch_add(1, std::memory_order_relaxed); }

  void request_started();
  void request_finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_opened();
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }

  // Zeroes the counters; the gauges (in_flight, connections) keep their value and their maxima
  // restart from it, since open connections and pending requests still exist.
  void reset();
  std::string to_json() const;

 private:
  static void raise_max(std::atomic<std::int64_t>& max, std::int64_t value);

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> responses_2xx_{0};
  std::atomic<std::uint64_t> responses_304_{0};
  std::atomic<std::uint64_t> bodies_sent_{0};
  std::atomic<std::uint64_t> conditional_requests_{0};
  std::atomic<std::uint64_t> head_requests_{0};
  // Arrival times (steady clock, ns) of the first and the last request since the reset: the span
  // over which a client's request rate is measured.
  std::atomic<std::int64_t> first_request_ns_{0};
  std::atomic<std::int64_t> last_request_ns_{0};
  std::atomic<std::uint64_t> connections_accepted_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> max_in_flight_{0};
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> max_connections_{0};
};

// Per-key request counts for the fail_first fault.
class FailFirstCounters {
 public:
  // How many requests carried this key before this one.
  std::uint64_t next(std::string_view key);
  void reset();

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::uint64_t> counts_;
};

struct SharedState {
  Stats stats;
  FailFirstCounters fail_first;
};

}  // namespace sluice::fixture
