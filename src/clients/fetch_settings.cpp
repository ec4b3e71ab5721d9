// A download policy checked once and prepared for the I/O threads that share it.
#include "clients/fetch_settings.hpp"

#include <stdexcept>

#include "clients/fetch_response.hpp"

namespace sluice {
namespace {

void check(const FetchPolicy& p) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("FetchPolicy: ") + what);
  };
  require(p.max_in_flight >= 1, "max_in_flight must be at least 1");
  require(p.io_threads >= 1, "io_threads must be at least 1");
  require(p.connect_timeout_ms > 0, "connect_timeout_ms must be positive");
  require(p.transfer_timeout_ms > 0, "transfer_timeout_ms must be positive");
  require(p.max_body_bytes > 0, "max_body_bytes must be positive");
  require(p.max_header_bytes > 0, "max_header_bytes must be positive");
  require(p.max_redirects >= 0, "max_redirects must not be negative");
  require(p.max_attempts >= 1, "max_attempts must be at least 1");
  require(p.backoff_initial_ms >= 0 && p.backoff_max_ms >= 0, "backoff times must not be negative");
  require(p.retry_after_cap_ms >= 0, "retry_after_cap_ms must not be negative");
  require(p.per_host_rate >= 0, "per_host_rate must not be negative");
  require(!has_line_break(p.user_agent) && !has_line_break(p.proxy), "line break in user_agent or proxy");
  for (const auto& type : p.allowed_content_types) require(!has_line_break(type), "line break in a content type");
}

}  // namespace

FetchSettings make_fetch_settings(const FetchPolicy& policy) {
  check(policy);
  FetchSettings s;
  s.policy = policy;
  s.guard = AddressGuard(policy.allow_networks);
  // A check takes whatever the URL serves.
  if (policy.purpose == FetchPurpose::download)
    for (const auto& type : policy.allowed_content_types) s.allowed_types.push_back(media_type(type));
  s.accept_header = "Accept: ";
  if (s.allowed_types.empty()) {
    s.accept_header += "*/*";
  } else {
    for (std::size_t i = 0; i < s.allowed_types.size(); ++i) s.accept_header += (i == 0 ? "" : ",") + s.allowed_types[i];
  }
  return s;
}

}  // namespace sluice
