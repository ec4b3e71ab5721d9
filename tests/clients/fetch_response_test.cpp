// Tests for the rules that judge one download attempt: every outcome from one table.
#include "clients/fetch_response.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clients/loopback_image_server.hpp"

namespace sluice {
namespace {

const std::vector<std::string> images = {"image/jpeg", "image/png"};

struct Case {
  const char* name;
  AttemptFacts facts;
  FetchResult::Status status;
  std::string error;  // exact
  bool retry;
};

AttemptFacts facts(CURLcode code, long status) {
  AttemptFacts f;
  f.code = code;
  f.http_status = status;
  f.request_sent = true;
  f.content_type = "image/jpeg";
  return f;
}

template <class F>
AttemptFacts with(AttemptFacts f, F&& change) {
  change(f);
  return f;
}

TEST(FetchResponse, JudgesEveryKindOfAttempt) {
  static const std::string jpeg = test::make_image_bytes("jpg", 64, 48, 2000);
  static const std::string cut = jpeg.substr(0, 1000);
  using S = FetchResult::Status;
  const Case cases[] = {
      {"a whole image", with(facts(CURLE_OK, 200), [](auto& f) { f.body = jpeg; }), S::ok, "", false},
      {"not modified", facts(CURLE_OK, 304), S::not_modified, "", false},
      {"a body cut short", with(facts(CURLE_OK, 200), [](auto& f) { f.body = cut; }), S::failed,
       "truncated JPEG: no end-of-image marker", true},
      {"html, not an image", with(facts(CURLE_OK, 200), [](auto& f) { f.body = "<html>"; }), S::failed,
       "not an image (bytes do not match JPEG, PNG, GIF or WebP)", false},
      {"a type not allowed", with(facts(CURLE_OK, 200), [](auto& f) { f.content_type = "text/html; charset=utf-8"; }),
       S::failed, "content type text/html is not allowed", false},
      {"no type", with(facts(CURLE_OK, 200), [](auto& f) { f.content_type = ""; }), S::failed,
       "content type (none) is not allowed", false},
      {"a malformed head", with(facts(CURLE_OK, 200), [](auto& f) { f.head = "malformed Content-Length: 12abc"; }),
       S::failed, "malformed Content-Length: 12abc", false},
      {"not found", facts(CURLE_OK, 404), S::failed, "HTTP 404", false},
      {"too many requests", facts(CURLE_OK, 429), S::failed, "HTTP 429", true},
      {"server error", facts(CURLE_OK, 503), S::failed, "HTTP 503", true},
      {"refused for its head", with(facts(CURLE_WRITE_ERROR, 305), [](auto& f) {
         f.refused = "HTTP 305 (Use Proxy) is not followed";
       }),
       S::failed, "HTTP 305 (Use Proxy) is not followed", false},
      {"blocked address", with(facts(CURLE_COULDNT_CONNECT, 0), [](auto& f) { f.blocked = "blocked address 10.0.0.1"; }),
       S::failed, "blocked address 10.0.0.1", false},
      {"body too large", with(facts(CURLE_WRITE_ERROR, 200), [](auto& f) { f.body_too_large = true; }), S::failed,
       "body exceeds 1000 bytes", false},
      {"declared too large", facts(CURLE_FILESIZE_EXCEEDED, 200), S::failed, "body exceeds 1000 bytes", false},
      {"headers too large", with(facts(CURLE_WRITE_ERROR, 200), [](auto& f) { f.headers_too_large = true; }),
       S::failed, "response headers exceed 500 bytes", false},
      {"one header line too long", facts(CURLE_OUT_OF_MEMORY, 0), S::failed, "response headers exceed 500 bytes",
       false},
      {"type refused before the body",
       with(facts(CURLE_WRITE_ERROR, 200), [](auto& f) { f.refused_type = "text/html"; }), S::failed,
       "content type text/html is not allowed", false},
      {"timeout while connecting", with(facts(CURLE_OPERATION_TIMEDOUT, 0), [](auto& f) { f.request_sent = false; }),
       S::failed, "connect timeout after 100 ms", true},
      {"timeout after the request", facts(CURLE_OPERATION_TIMEDOUT, 0), S::failed, "timeout after 2000 ms", true},
      {"too many redirects", facts(CURLE_TOO_MANY_REDIRECTS, 302), S::failed, "too many redirects (more than 3)",
       false},
      {"connection refused", with(facts(CURLE_COULDNT_CONNECT, 0), [](auto& f) { f.curl_message = "refused"; }),
       S::failed, "curl error 7: refused", true},
      {"reset mid-body", with(facts(CURLE_RECV_ERROR, 200), [](auto& f) { f.curl_message = "reset"; }), S::failed,
       "curl error 56: reset", true},
      {"bad URL", with(facts(CURLE_URL_MALFORMAT, 0), [](auto& f) { f.curl_message = "bad"; }), S::failed,
       "curl error 3: bad", false},
  };
  FetchPolicy policy;
  policy.max_body_bytes = 1000;
  policy.max_header_bytes = 500;
  policy.connect_timeout_ms = 100;
  policy.transfer_timeout_ms = 2000;
  policy.max_redirects = 3;
  for (const auto& c : cases) {
    const AttemptVerdict v = judge_attempt(c.facts, policy, images);
    EXPECT_EQ(v.status, c.status) << c.name;
    EXPECT_EQ(v.error, c.error) << c.name;
    EXPECT_EQ(v.retry, c.retry) << c.name;
  }
}

TEST(FetchResponse, AWholeImageIsMeasuredAndAnyTypeIsTakenWhenNoneIsListed) {
  AttemptFacts f = facts(CURLE_OK, 200);
  const std::string png = test::make_image_bytes("png", 30, 20, 500);
  f.body = png;
  f.content_type = "application/octet-stream";
  const AttemptVerdict v = judge_attempt(f, FetchPolicy{}, {});
  ASSERT_EQ(v.status, FetchResult::Status::ok) << v.error;
  EXPECT_EQ(v.image.width, 30u);
  EXPECT_EQ(v.image.height, 20u);
}

TEST(FetchResponse, AHeadIsSoundOnlyWithOnePlainLengthAndNoEncoding) {
  const struct {
    std::vector<std::string_view> lengths;
    std::optional<std::string_view> encoding;
    std::string problem;
  } cases[] = {
      {{}, std::nullopt, ""},
      {{"120"}, std::nullopt, ""},
      {{" 120 "}, std::nullopt, ""},
      {{"120", "120"}, std::nullopt, ""},
      {{"12abc"}, std::nullopt, "malformed Content-Length: 12abc"},
      {{"10, 20"}, std::nullopt, "malformed Content-Length: 10, 20"},
      {{""}, std::nullopt, "malformed Content-Length: "},
      {{"-1"}, std::nullopt, "malformed Content-Length: -1"},
      {{"10", "20"}, std::nullopt, "malformed Content-Length: 10 and 20"},
      {{"10", "x"}, std::nullopt, "malformed Content-Length: x"},
      {{"5"}, "identity", ""},
      {{"5"}, " Identity ", ""},
      {{"5"}, "", ""},
      {{"5"}, "br", "content encoding br was not offered"},
      {{}, " gzip ", "content encoding gzip was not offered"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(head_problem(c.lengths, c.encoding), c.problem)
        << (c.lengths.empty() ? "-" : std::string(c.lengths[0])) << " / " << c.encoding.value_or("-");
  }
}

TEST(FetchResponse, MediaTypesDropParametersSpacesAndCase) {
  const std::pair<const char*, const char*> cases[] = {
      {"image/jpeg", "image/jpeg"},     {"image/JPEG; charset=binary", "image/jpeg"}, {" image/png ", "image/png"},
      {"\timage/gif;q=1", "image/gif"}, {"", ""},                                       {";x", ""},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(media_type(in), out) << in;
}

TEST(FetchResponse, OnlyErrorsThatMayPassAreRetried) {
  for (CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE, CURLE_RECV_ERROR,
                        CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR})
    EXPECT_TRUE(retryable_curl_code(code)) << code;
  for (CURLcode code : {CURLE_OK, CURLE_URL_MALFORMAT, CURLE_COULDNT_RESOLVE_HOST, CURLE_TOO_MANY_REDIRECTS,
                        CURLE_WRITE_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_UNSUPPORTED_PROTOCOL})
    EXPECT_FALSE(retryable_curl_code(code)) << code;
}

}  // namespace
}  // namespace sluice
