// The running totals of a URL check: outcomes per class, the latency distribution, the slowest
// URLs and the hosts with most failures. Safe to add to from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "clients/url_probe.hpp"
#include "core/histogram.hpp"
#include "nodes/url_health.hpp"

namespace sluice {

class CheckTally {
 public:
  explicit CheckTally(std::vector<std::string> fail_on) : fail_on_(std::move(fail_on)) {}

  // One URL's check. `timed`: it reached the network, so its latency counts.
  void add(const std::string& url, CheckOutcome outcome, std::int64_t total_us, bool timed, int attempts);
  CheckReport report() const;

 private:
  const std::vector<std::string> fail_on_;
  LatencyHistogram latency_;  // nanoseconds
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> outcomes_;
  std::uint64_t checked_ = 0, attempts_ = 0;
  std::vector<CheckReport::Slow> slowest_;  // kept sorted, slowest first, at most listed_max
  std::unordered_map<std::string, CheckReport::Host> hosts_;
};

// "https://Images.Example.com:8443/a.jpg" -> "images.example.com:8443"; the text itself when it
// names no host.
std::string host_of(const std::string& url);

}  // namespace sluice
