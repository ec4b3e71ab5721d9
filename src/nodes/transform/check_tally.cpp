// Running totals of a URL check.
#include "nodes/transform/check_tally.hpp"

#include <algorithm>

namespace sluice {

std::string host_of(const std::string& url) {
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);  // user:password@
  for (char& c : host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return host.empty() ? url : host;
}

void CheckTally::add(const std::string& url, CheckOutcome outcome, std::int64_t total_us, bool timed, int attempts) {
  if (timed) latency_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(total_us, 0)) * 1000);
  const std::string name(to_string(outcome));
  const bool failed = !healthy(outcome);
  const double ms = static_cast<double>(total_us) / 1000.0;
  std::lock_guard lock(mutex_);
  ++outcomes_[name];
  ++checked_;
  attempts_ += static_cast<std::uint64_t>(std::max(attempts, 0));
  auto& host = hosts_[outcome == CheckOutcome::invalid_url ? std::string("(invalid URLs)") : host_of(url)];
  ++host.checked;
  if (failed) ++host.failed;
  if (timed && (slowest_.size() < CheckReport::listed_max || ms > slowest_.back().ms)) {
    auto at = std::upper_bound(slowest_.begin(), slowest_.end(), ms,
                               [](double v, const CheckReport::Slow& s) { return v > s.ms; });
    slowest_.insert(at, CheckReport::Slow{url, ms, name});
    if (slowest_.size() > CheckReport::listed_max) slowest_.pop_back();
  }
}

CheckReport CheckTally::report() const {
  CheckReport r;
  const double ms = 1e-6;
  r.p50_ms = static_cast<double>(latency_.percentile(0.50)) * ms;
  r.p95_ms = static_cast<double>(latency_.percentile(0.95)) * ms;
  r.p99_ms = static_cast<double>(latency_.percentile(0.99)) * ms;
  r.max_ms = static_cast<double>(latency_.max()) * ms;
  r.fail_on = fail_on_;
  std::lock_guard lock(mutex_);
  for (CheckOutcome o : all_check_outcomes) r.outcomes[std::string(to_string(o))] = 0;
  for (const auto& [name, n] : outcomes_) r.outcomes[name] = n;
  r.checked = checked_;
  r.attempts = attempts_;
  r.slowest = slowest_;
  for (const auto& [name, host] : hosts_) {
    if (host.failed == 0) continue;
    r.failing_hosts.push_back(host);
    r.failing_hosts.back().host = name;
  }
  std::sort(r.failing_hosts.begin(), r.failing_hosts.end(), [](const auto& a, const auto& b) {
    return a.failed != b.failed ? a.failed > b.failed : a.host < b.host;
  });
  if (r.failing_hosts.size() > CheckReport::listed_max) r.failing_hosts.resize(CheckReport::listed_max);
  for (const auto& name : fail_on_) {
    auto it = r.outcomes.find(name);
    if (it != r.outcomes.end()) r.failing += it->second;
  }
  return r;
}

}  // namespace sluice
