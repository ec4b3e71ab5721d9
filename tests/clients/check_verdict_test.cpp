// Tests for the rules that classify one attempt at checking a URL, by table.
#include "clients/check_verdict.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

CheckVerdict judge(const CheckFacts& f) {
  return judge_check(f, 10000, 5000, 5);
}

CheckFacts answered(long status, bool ranged = false, long redirects = 0) {
  CheckFacts f;
  f.http_status = status;
  f.ranged_get = ranged;
  f.request_sent = true;
  f.redirects = redirects;
  return f;
}

CheckFacts failed(CURLcode code, bool ranged = false, bool sent = true) {
  CheckFacts f;
  f.code = code;
  f.ranged_get = ranged;
  f.request_sent = sent;
  f.curl_message = "libcurl says so";
  return f;
}

TEST(CheckVerdict, AnswersAreClassifiedByStatus) {
  const struct {
    CheckFacts facts;
    CheckOutcome outcome;
    bool try_ranged_get, retry;
    std::string error;
  } cases[] = {
      {answered(200), CheckOutcome::up, false, false, ""},
      {answered(204), CheckOutcome::up, false, false, ""},
      {answered(206, true), CheckOutcome::up, false, false, ""},
      {answered(200, false, 2), CheckOutcome::redirected, false, false, ""},
      {answered(416, true), CheckOutcome::up, false, false, ""},
      {answered(416), CheckOutcome::client_error, false, false, "HTTP 416"},
      {answered(404), CheckOutcome::client_error, false, false, "HTTP 404"},
      {answered(410, false, 1), CheckOutcome::client_error, false, false, "HTTP 410"},
      {answered(429), CheckOutcome::client_error, false, true, "HTTP 429"},
      {answered(500), CheckOutcome::server_error, false, false, "HTTP 500"},
      {answered(503), CheckOutcome::server_error, false, true, "HTTP 503"},
      {answered(405), CheckOutcome::client_error, true, false, "HTTP 405 to HEAD"},
      {answered(501), CheckOutcome::client_error, true, false, "HTTP 501 to HEAD"},
      {answered(405, true), CheckOutcome::client_error, false, false, "HTTP 405"},
      {answered(501, true), CheckOutcome::server_error, false, false, "HTTP 501"},
      {answered(300), CheckOutcome::client_error, false, false, "HTTP 300 without a redirect to follow"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.facts.http_status) + (c.facts.ranged_get ? " to GET" : " to HEAD"));
    const CheckVerdict v = judge(c.facts);
    EXPECT_EQ(to_string(v.outcome), to_string(c.outcome));
    EXPECT_EQ(v.try_ranged_get, c.try_ranged_get);
    EXPECT_EQ(v.retry, c.retry);
    EXPECT_EQ(v.error, c.error);
  }
}

TEST(CheckVerdict, TransportFailuresAreClassifiedByWhatFailed) {
  const struct {
    CheckFacts facts;
    CheckOutcome outcome;
    bool try_ranged_get, retry;
  } cases[] = {
      {failed(CURLE_COULDNT_RESOLVE_HOST), CheckOutcome::dns_error, false, false},
      {failed(CURLE_COULDNT_CONNECT, false, false), CheckOutcome::connection_refused, false, false},
      {failed(CURLE_OPERATION_TIMEDOUT, false, false), CheckOutcome::timeout, false, false},
      // A HEAD that hangs once the request went out: GET may be answered.
      {failed(CURLE_OPERATION_TIMEDOUT), CheckOutcome::timeout, true, false},
      {failed(CURLE_OPERATION_TIMEDOUT, true), CheckOutcome::timeout, false, false},
      {failed(CURLE_PEER_FAILED_VERIFICATION), CheckOutcome::tls_error, false, false},
      {failed(CURLE_SSL_CONNECT_ERROR), CheckOutcome::tls_error, false, false},
      {failed(CURLE_TOO_MANY_REDIRECTS), CheckOutcome::too_many_redirects, false, false},
      {failed(CURLE_UNSUPPORTED_PROTOCOL), CheckOutcome::blocked, false, false},
      {failed(CURLE_URL_MALFORMAT), CheckOutcome::invalid_url, false, false},
      // A HEAD the server mishandles (no answer, or a broken one): try GET, then retry GET.
      {failed(CURLE_GOT_NOTHING), CheckOutcome::connection_error, true, false},
      {failed(CURLE_WEIRD_SERVER_REPLY), CheckOutcome::connection_error, true, false},
      {failed(CURLE_GOT_NOTHING, true), CheckOutcome::connection_error, false, true},
      {failed(CURLE_RECV_ERROR, true), CheckOutcome::connection_error, false, true},
      {failed(CURLE_OUT_OF_MEMORY), CheckOutcome::connection_error, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(static_cast<int>(c.facts.code)) + (c.facts.ranged_get ? " on GET" : " on HEAD"));
    const CheckVerdict v = judge(c.facts);
    EXPECT_EQ(to_string(v.outcome), to_string(c.outcome));
    EXPECT_EQ(v.try_ranged_get, c.try_ranged_get);
    EXPECT_EQ(v.retry, c.retry);
    EXPECT_FALSE(v.error.empty());
  }
}

TEST(CheckVerdict, PolicyRefusalsAreBlockedWithTheirReason) {
  CheckFacts guard = failed(CURLE_COULDNT_CONNECT);
  guard.blocked = "blocked address 10.0.0.1 (private network)";
  CheckVerdict v = judge(guard);
  EXPECT_EQ(v.outcome, CheckOutcome::blocked);
  EXPECT_EQ(v.error, "blocked address 10.0.0.1 (private network)");

  CheckFacts proxy = failed(CURLE_WRITE_ERROR);
  proxy.refused = "HTTP 305 (Use Proxy) is not followed";
  v = judge(proxy);
  EXPECT_EQ(v.outcome, CheckOutcome::blocked);
  EXPECT_EQ(v.error, "HTTP 305 (Use Proxy) is not followed");
}

TEST(CheckVerdict, ABodyCutShortOnPurposeStillCountsAsTheAnswer) {
  CheckFacts f = failed(CURLE_WRITE_ERROR, true);
  f.http_status = 200;
  f.body_cut = true;
  EXPECT_EQ(judge(f).outcome, CheckOutcome::up);
  f.body_cut = false;
  EXPECT_EQ(judge(f).outcome, CheckOutcome::connection_error);
}

TEST(CheckVerdict, TimeoutsSayWhichPhaseRanOut) {
  EXPECT_EQ(judge(failed(CURLE_OPERATION_TIMEDOUT, true, true)).error, "no answer within 10000 ms");
  EXPECT_EQ(judge(failed(CURLE_OPERATION_TIMEDOUT, true, false)).error, "could not connect within 5000 ms");
  // The attempt's time limit also bounds connecting.
  EXPECT_EQ(judge_check(failed(CURLE_OPERATION_TIMEDOUT, true, false), 2000, 5000, 5).error,
            "could not connect within 2000 ms");
}

TEST(CheckOutcomeNames, RoundTripAndOnlyUpAndRedirectedAreHealthy) {
  int healthy_count = 0;
  for (CheckOutcome o : all_check_outcomes) {
    EXPECT_EQ(parse_check_outcome(to_string(o)), o);
    healthy_count += healthy(o) ? 1 : 0;
  }
  EXPECT_EQ(healthy_count, 2);
  EXPECT_TRUE(healthy(CheckOutcome::redirected));
  EXPECT_FALSE(parse_check_outcome("down").has_value());
}

}  // namespace
}  // namespace sluice
