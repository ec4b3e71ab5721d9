// What the URL health pipeline's nodes share: the fields a check adds to its record, and what a
// history sink found against the previous check of each URL.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::url_fields {

// Set by url_list: the URL, and how many times the input named it (each is checked once).
inline constexpr std::string_view url = "url";
inline constexpr std::string_view occurrences = "occurrences";

// Set by http_check.
inline constexpr std::string_view outcome = "check_outcome";          // text: up, redirected, client_error, ...
inline constexpr std::string_view status = "check_status";            // integer; null without a response
inline constexpr std::string_view final_url = "check_final_url";      // text: after the redirects
inline constexpr std::string_view redirects = "check_redirects";      // JSON: [{"url":..,"status":..}, ...]
inline constexpr std::string_view content_type = "check_content_type";
inline constexpr std::string_view content_length = "check_content_length";  // integer or null
inline constexpr std::string_view method = "check_method";                  // HEAD or GET (ranged)
inline constexpr std::string_view dns_ms = "check_dns_ms";                  // decimal milliseconds
inline constexpr std::string_view connect_ms = "check_connect_ms";
inline constexpr std::string_view tls_ms = "check_tls_ms";
inline constexpr std::string_view first_byte_ms = "check_first_byte_ms";
inline constexpr std::string_view total_ms = "check_total_ms";
inline constexpr std::string_view attempts = "check_attempts";  // integer: attempts, a GET after HEAD included
inline constexpr std::string_view error = "check_error";        // text or null

}  // namespace sluice::url_fields

namespace sluice {

// A URL whose health changed since its previous check: `before` and `now` are outcomes.
struct HealthChange {
  std::string url;
  std::string before;
  std::string now;
};

// What a history sink found at the end of a complete run. `known`: the sink keeps history (a run
// without one says nothing of changes). The lists hold at most `listed_max` URLs each, in URL
// order; the counts are exact.
struct HealthChanges {
  static constexpr std::size_t listed_max = 100;
  bool known = false;
  std::uint64_t went_down = 0;  // healthy (up, redirected) at the previous check, failing now
  std::uint64_t came_back = 0;  // failing at the previous check, healthy now
  std::uint64_t first_seen = 0;  // no previous check
  std::vector<HealthChange> down, back;
};

// What the URLs checked in a run came to, for the summary, the JSON report and the metrics.
struct CheckReport {
  static constexpr std::size_t listed_max = 10;
  std::map<std::string, std::uint64_t> outcomes;  // every class, zero or not
  std::uint64_t checked = 0;                      // URLs checked (each once, whatever its duplicates)
  std::uint64_t attempts = 0;  // attempts started, retries and GETs after HEAD included; a redirect chain is one
  // Of the URLs that got an answer or an error from the network (not invalid_url or blocked before
  // connecting), in milliseconds to the last attempt's end; about 6% resolution.
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  struct Slow {
    std::string url;
    double ms = 0;
    std::string outcome;
  };
  std::vector<Slow> slowest;  // the listed_max slowest, slowest first
  struct Host {
    std::string host;
    std::uint64_t failed = 0, checked = 0;
  };
  std::vector<Host> failing_hosts;   // the listed_max hosts with most failing URLs, most first
  std::vector<std::string> fail_on;  // the classes that fail the run
  std::uint64_t failing = 0;         // URLs in one of them
};

}  // namespace sluice
