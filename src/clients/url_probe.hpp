// What checking a URL found: the class its answer falls in, the redirects it took, the response's
// size and libcurl's timings. Filled by the fetcher when its policy's purpose is `check`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class CheckOutcome {
  up,                  // a 2xx answer at the URL itself
  redirected,          // a 2xx answer after one or more redirects
  client_error,        // 4xx
  server_error,        // 5xx
  timeout,             // no answer in time (connecting or waiting)
  dns_error,           // the name does not resolve
  connection_refused,  // nothing listens there, or the host is unreachable
  tls_error,           // the TLS handshake or the certificate failed
  blocked,             // refused by policy: a private or loopback address, a 305, a scheme other than http(s)
  invalid_url,         // not a URL sluice can request
  too_many_redirects,  // more redirects than max_redirects, or a loop
  connection_error,    // the connection broke, or the answer was not HTTP
};

inline constexpr CheckOutcome all_check_outcomes[] = {
    CheckOutcome::up,           CheckOutcome::redirected,        CheckOutcome::client_error,
    CheckOutcome::server_error, CheckOutcome::timeout,           CheckOutcome::dns_error,
    CheckOutcome::connection_refused, CheckOutcome::tls_error,   CheckOutcome::blocked,
    CheckOutcome::invalid_url,  CheckOutcome::too_many_redirects, CheckOutcome::connection_error,
};

std::string_view to_string(CheckOutcome outcome);
std::optional<CheckOutcome> parse_check_outcome(std::string_view text);
// up and redirected: the URL serves something.
bool healthy(CheckOutcome outcome);

struct RedirectHop {
  std::string url;  // the URL that answered with a redirect
  long status = 0;
};

// libcurl's timings of the last attempt, in microseconds from its start (as `curl -w` reports
// them): the name resolved, the connection made, TLS done, the first byte of the answer, the end.
// A reused connection reports zero for the phases it skipped.
struct ProbeTimings {
  std::int64_t dns_us = 0, connect_us = 0, tls_us = 0, first_byte_us = 0, total_us = 0;
};

struct UrlProbe {
  CheckOutcome outcome = CheckOutcome::connection_error;
  bool ranged_get = false;           // the last attempt was a GET of one byte, not a HEAD
  std::int64_t content_length = -1;  // the resource's size when the answer gave it
  std::vector<RedirectHop> redirects;
  ProbeTimings timings;
};

}  // namespace sluice
