// The URL health part of the summary, report and metrics.
#include "runtime/check_summary.hpp"

#include <cstdio>

#include "runtime/report_text.hpp"

namespace sluice {
namespace {

using report_text::label;
using report_text::num;
using report_text::str;
using report_text::u;

std::string ms(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f ms", v);
  return b;
}

}  // namespace

std::string format_checks(const FlowResult& f) {
  if (!f.checks) return {};
  const CheckReport& c = *f.checks;
  std::string out = "  URLs checked   " + std::string(12 - std::min<std::size_t>(12, u(c.checked).size()), ' ') +
                    u(c.checked) + "  (" + u(c.attempts) + " attempts)\n";
  for (const auto& [name, n] : c.outcomes) {
    if (n == 0) continue;
    char line[128];
    std::snprintf(line, sizeof line, "    %-20s %10llu\n", name.c_str(), static_cast<unsigned long long>(n));
    out += line;
  }
  out += "  latency        p50 " + ms(c.p50_ms) + ", p95 " + ms(c.p95_ms) + ", p99 " + ms(c.p99_ms) + ", max " +
         ms(c.max_ms) + "\n";
  if (!c.slowest.empty()) {
    out += "  slowest\n";
    for (std::size_t i = 0; i < c.slowest.size() && i < 5; ++i)
      out += "    " + ms(c.slowest[i].ms) + "  " + c.slowest[i].outcome + "  " + c.slowest[i].url + "\n";
  }
  if (!c.failing_hosts.empty()) {
    out += "  hosts with most failures\n";
    for (std::size_t i = 0; i < c.failing_hosts.size() && i < 5; ++i)
      out += "    " + u(c.failing_hosts[i].failed) + " of " + u(c.failing_hosts[i].checked) + "  " +
             c.failing_hosts[i].host + "\n";
  }
  const HealthChanges& h = f.health;
  if (h.known) {
    out += "  since the previous check: " + u(h.went_down) + " went down, " + u(h.came_back) + " came back, " +
           u(h.first_seen) + " checked for the first time\n";
    for (const auto& x : h.down) out += "    down  " + x.url + "  (" + x.before + " -> " + x.now + ")\n";
    if (h.went_down > h.down.size()) out += "    ... and " + u(h.went_down - h.down.size()) + " more down\n";
    for (const auto& x : h.back) out += "    back  " + x.url + "  (" + x.before + " -> " + x.now + ")\n";
    if (h.came_back > h.back.size()) out += "    ... and " + u(h.came_back - h.back.size()) + " more back\n";
  }
  if (!c.fail_on.empty()) {
    std::string classes;
    for (const auto& name : c.fail_on) classes += (classes.empty() ? "" : ", ") + name;
    out += "  fail_on " + classes + ": " + u(c.failing) + (c.failing == 1 ? " URL" : " URLs") + "\n";
  }
  return out;
}

std::string checks_json(const FlowResult& f) {
  if (!f.checks) return "null";
  const CheckReport& c = *f.checks;
  std::string j = "{\"checked\": " + u(c.checked) + ", \"attempts\": " + u(c.attempts) + ", \"outcomes\": {";
  bool first = true;
  for (const auto& [name, n] : c.outcomes) {
    j += (first ? "" : ", ") + str(name) + ": " + u(n);
    first = false;
  }
  j += "}, \"latency_ms\": {\"p50\": " + num(c.p50_ms) + ", \"p95\": " + num(c.p95_ms) + ", \"p99\": " +
       num(c.p99_ms) + ", \"max\": " + num(c.max_ms) + "}, \"slowest\": [";
  for (std::size_t i = 0; i < c.slowest.size(); ++i)
    j += (i ? ", " : "") + std::string("{\"url\": ") + str(c.slowest[i].url) + ", \"ms\": " + num(c.slowest[i].ms) +
         ", \"outcome\": " + str(c.slowest[i].outcome) + "}";
  j += "], \"failing_hosts\": [";
  for (std::size_t i = 0; i < c.failing_hosts.size(); ++i)
    j += (i ? ", " : "") + std::string("{\"host\": ") + str(c.failing_hosts[i].host) +
         ", \"failed\": " + u(c.failing_hosts[i].failed) + ", \"checked\": " + u(c.failing_hosts[i].checked) + "}";
  j += "], \"fail_on\": [";
  for (std::size_t i = 0; i < c.fail_on.size(); ++i) j += (i ? ", " : "") + str(c.fail_on[i]);
  j += "], \"failing\": " + u(c.failing) + ", \"changes\": ";
  const HealthChanges& h = f.health;
  if (!h.known) return j + "null}";
  auto list = [](const std::vector<HealthChange>& xs) {
    std::string l = "[";
    for (std::size_t i = 0; i < xs.size(); ++i)
      l += (i ? ", " : "") + std::string("{\"url\": ") + str(xs[i].url) + ", \"before\": " + str(xs[i].before) +
           ", \"now\": " + str(xs[i].now) + "}";
    return l + "]";
  };
  return j + "{\"went_down\": " + u(h.went_down) + ", \"came_back\": " + u(h.came_back) +
         ", \"first_seen\": " + u(h.first_seen) + ", \"down\": " + list(h.down) + ", \"back\": " + list(h.back) + "}}";
}

std::string checks_metrics(const FlowResult& f, const std::string& labels) {
  if (!f.checks) return {};
  const CheckReport& c = *f.checks;
  std::string m = "# HELP sluice_url_checks URLs checked in the last run by outcome class.\n"
                  "# TYPE sluice_url_checks gauge\n";
  for (const auto& [name, n] : c.outcomes)
    m += "sluice_url_checks{" + labels + ",outcome=\"" + label(name) + "\"} " + u(n) + "\n";
  m += "# HELP sluice_url_check_latency_seconds Latency quantiles of the last run's URL checks.\n"
       "# TYPE sluice_url_check_latency_seconds gauge\n";
  const std::pair<const char*, double> qs[] = {{"0.5", c.p50_ms}, {"0.95", c.p95_ms}, {"0.99", c.p99_ms}};
  for (const auto& [q, v] : qs)
    m += "sluice_url_check_latency_seconds{" + labels + ",quantile=\"" + q + "\"} " + num(v / 1000.0) + "\n";
  m += "# HELP sluice_url_checks_failing URLs of the last run in a class fail_on names.\n"
       "# TYPE sluice_url_checks_failing gauge\n"
       "sluice_url_checks_failing{" + labels + "} " + u(c.failing) + "\n";
  if (f.health.known) {
    m += "# HELP sluice_url_changes URLs whose health changed since their previous check.\n"
         "# TYPE sluice_url_changes gauge\n";
    m += "sluice_url_changes{" + labels + ",change=\"went_down\"} " + u(f.health.went_down) + "\n";
    m += "sluice_url_changes{" + labels + ",change=\"came_back\"} " + u(f.health.came_back) + "\n";
    m += "sluice_url_changes{" + labels + ",change=\"first_seen\"} " + u(f.health.first_seen) + "\n";
  }
  return m;
}

}  // namespace sluice
