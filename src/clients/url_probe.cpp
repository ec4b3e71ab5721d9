// Names of the classes a URL check ends in.
#include "clients/url_probe.hpp"

namespace sluice {

std::string_view to_string(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::up:
      return "up";
    case CheckOutcome::redirected:
      return "redirected";
    case CheckOutcome::client_error:
      return "client_error";
    case CheckOutcome::server_error:
      return "server_error";
    case CheckOutcome::timeout:
      return "timeout";
    case CheckOutcome::dns_error:
      return "dns_error";
    case CheckOutcome::connection_refused:
      return "connection_refused";
    case CheckOutcome::tls_error:
      return "tls_error";
    case CheckOutcome::blocked:
      return "blocked";
    case CheckOutcome::invalid_url:
      return "invalid_url";
    case CheckOutcome::too_many_redirects:
      return "too_many_redirects";
    case CheckOutcome::connection_error:
      return "connection_error";
  }
  return "connection_error";
}

std::optional<CheckOutcome> parse_check_outcome(std::string_view text) {
  for (CheckOutcome o : all_check_outcomes)
    if (to_string(o) == text) return o;
  return std::nullopt;
}

bool healthy(CheckOutcome outcome) {
  return outcome == CheckOutcome::up || outcome == CheckOutcome::redirected;
}

}  // namespace sluice
