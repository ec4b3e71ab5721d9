// Shared counters and their JSON rendering for GET /stats.
#include "fixture_server/stats.hpp"

#include <chrono>

namespace sluice::fixture {

std::uint64_t Stats::count_request() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t unset = 0;
  first_request_ns_.compare_exchange_strong(unset, now, std::memory_order_relaxed);
  last_request_ns_.store(now, std::memory_order_relaxed);
  return requests_.fetch_add(1, std::memory_order_relaxed);
}

void Stats::count_response(int status) {
  if (status >= 200 && status < 300) responses_2xx_.fetch_add(1, std::memory_order_relaxed);
  if (status == 304) responses_304_.fetch_add(1, std::memory_order_relaxed);
}

void Stats::request_started() {
  raise_max(max_in_flight_, in_flight_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void Stats::connection_opened() {
  connections_accepted_.fetch_add(1, std::memory_order_relaxed);
  raise_max(max_connections_, connections_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void Stats::raise_max(std::atomic<std::int64_t>& max, std::int64_t value) {
  std::int64_t seen = max.load(std::memory_order_relaxed);
  while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

void Stats::reset() {
  requests_.store(0, std::memory_order_relaxed);
  responses_2xx_.store(0, std::memory_order_relaxed);
  responses_304_.store(0, std::memory_order_relaxed);
  bodies_sent_.store(0, std::memory_order_relaxed);
  conditional_requests_.store(0, std::memory_order_relaxed);
  head_requests_.store(0, std::memory_order_relaxed);
  first_request_ns_.store(0, std::memory_order_relaxed);
  last_request_ns_.store(0, std::memory_order_relaxed);
  connections_accepted_.store(0, std::memory_order_relaxed);
  max_in_flight_.store(in_flight_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  max_connections_.store(connections_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

std::string Stats::to_json() const {
  auto field = [](std::string& out, const char* name, auto value, bool last = false) {
    out += '"';
    out += name;
    out += "\":";
    out += std::to_string(value);
    if (!last) out += ',';
  };
  std::string out = "{";
  field(out, "requests", requests_.load(std::memory_order_relaxed));
  field(out, "responses_2xx", responses_2xx_.load(std::memory_order_relaxed));
  field(out, "responses_304", responses_304_.load(std::memory_order_relaxed));
  field(out, "bodies_sent", bodies_sent_.load(std::memory_order_relaxed));
  field(out, "in_flight", in_flight_.load(std::memory_order_relaxed));
  field(out, "max_in_flight", max_in_flight_.load(std::memory_order_relaxed));
  field(out, "connections", connections_.load(std::memory_order_relaxed));
  field(out, "max_connections", max_connections_.load(std::memory_order_relaxed));
  field(out, "connections_accepted", connections_accepted_.load(std::memory_order_relaxed));
  field(out, "conditional_requests", conditional_requests_.load(std::memory_order_relaxed));
  field(out, "head_requests", head_requests_.load(std::memory_order_relaxed));
  // From the first request to the last: requests / this span is the rate a client kept.
  const std::int64_t first = first_request_ns_.load(std::memory_order_relaxed);
  field(out, "request_span_us", first == 0 ? 0 : (last_request_ns_.load(std::memory_order_relaxed) - first) / 1000,
        true);
  out += "}\n";
  return out;
}

std::uint64_t FailFirstCounters::next(std::string_view key) {
  std::lock_guard lock(mutex_);
  return counts_[std::string(key)]++;
}

void FailFirstCounters::reset() {
  std::lock_guard lock(mutex_);
  counts_.clear();
}

}  // namespace sluice::fixture
