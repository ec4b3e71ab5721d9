// The rules that classify one attempt at checking a URL.
#include "clients/check_verdict.hpp"

#include <algorithm>

namespace sluice {
namespace {

bool tls_code(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
      return true;
    default:
      return false;
  }
}

// The connection broke or the answer was not HTTP: a HEAD may be what the server cannot take.
bool broken_answer(CURLcode code) {
  switch (code) {
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

CheckVerdict transport_failure(const CheckFacts& f, long transfer_timeout_ms, long connect_timeout_ms,
                               int max_redirects) {
  CheckVerdict v;
  const std::string curl_text =
      "curl error " + std::to_string(static_cast<int>(f.code)) + ": " + std::string(f.curl_message);
  if (!f.refused.empty()) {
    v.outcome = CheckOutcome::blocked;
    v.error = f.refused;
  } else if (!f.blocked.empty() && f.code == CURLE_COULDNT_CONNECT) {
    v.outcome = CheckOutcome::blocked;
    v.error = f.blocked;
  } else if (f.code == CURLE_UNSUPPORTED_PROTOCOL) {
    // The first URL's scheme is checked before any transfer; this is a redirect to another scheme.
    v.outcome = CheckOutcome::blocked;
    v.error = "redirect to a scheme other than http or https: " + std::string(f.curl_message);
  } else if (f.code == CURLE_URL_MALFORMAT) {
    v.outcome = CheckOutcome::invalid_url;
    v.error = curl_text;
  } else if (f.code == CURLE_COULDNT_RESOLVE_HOST || f.code == CURLE_COULDNT_RESOLVE_PROXY) {
    v.outcome = CheckOutcome::dns_error;
    v.error = curl_text;
  } else if (f.code == CURLE_COULDNT_CONNECT) {
    v.outcome = CheckOutcome::connection_refused;
    v.error = curl_text;
  } else if (f.code == CURLE_OPERATION_TIMEDOUT) {
    v.outcome = CheckOutcome::timeout;
    // The attempt's whole time bounds the connection too.
    v.error = f.request_sent ? "no answer within " + std::to_string(transfer_timeout_ms) + " ms"
                             : "could not connect within " +
                                   std::to_string(std::min(connect_timeout_ms, transfer_timeout_ms)) + " ms";
    // A HEAD that hangs where a GET would be answered.
    v.try_ranged_get = f.request_sent && !f.ranged_get;
  } else if (tls_code(f.code)) {
    v.outcome = CheckOutcome::tls_error;
    v.error = curl_text;
  } else if (f.code == CURLE_TOO_MANY_REDIRECTS) {
    v.outcome = CheckOutcome::too_many_redirects;
    v.error = "more than " + std::to_string(max_redirects) + " redirects";
  } else if (f.headers_too_large) {
    v.outcome = CheckOutcome::connection_error;
    v.error = "response headers too large";
  } else {
    v.outcome = CheckOutcome::connection_error;
    v.error = curl_text;
    if (broken_answer(f.code)) {
      v.try_ranged_get = !f.ranged_get;
      v.retry = f.ranged_get;
    }
  }
  return v;
}

}  // namespace

CheckVerdict judge_check(const CheckFacts& f, long transfer_timeout_ms, long connect_timeout_ms, int max_redirects) {
  // A body stopped on purpose ends the transfer with a write error; the head had arrived.
  const bool answered = f.code == CURLE_OK || (f.code == CURLE_WRITE_ERROR && f.body_cut);
  if (!answered) return transport_failure(f, transfer_timeout_ms, connect_timeout_ms, max_redirects);
  CheckVerdict v;
  const long s = f.http_status;
  const std::string status = "HTTP " + std::to_string(s);
  if (!f.ranged_get && (s == 405 || s == 501)) {
    v.outcome = CheckOutcome::client_error;
    v.error = status + " to HEAD";
    v.try_ranged_get = true;
  } else if ((s >= 200 && s < 300) || (f.ranged_get && s == 416)) {
    // 416 to bytes=0-0: the resource is there and empty.
    v.outcome = f.redirects > 0 ? CheckOutcome::redirected : CheckOutcome::up;
  } else if (s >= 300 && s < 400) {
    // A redirect libcurl did not follow: no Location, or a status that is not one to follow (304).
    v.outcome = CheckOutcome::client_error;
    v.error = status + " without a redirect to follow";
  } else if (s >= 400 && s < 500) {
    v.outcome = CheckOutcome::client_error;
    v.error = status;
    v.retry = s == 429;
  } else if (s >= 500 && s < 600) {
    v.outcome = CheckOutcome::server_error;
    v.error = status;
    v.retry = s == 503;
  } else {
    v.outcome = CheckOutcome::connection_error;
    v.error = s == 0 ? std::string("no HTTP answer") : "unexpected " + status;
  }
  return v;
}

}  // namespace sluice
