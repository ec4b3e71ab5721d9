// Tests for HttpFetcher against an in-process loopback image server: content, security, retries, bounds, aborts.
#include "clients/http_fetcher.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "clients/fetch_test_support.hpp"
#include "clients/loopback_image_server.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Collector;
using test::fetch_one;
using test::loopback_policy;
using test::LoopbackImageServer;
using Status = FetchResult::Status;

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

// A loopback port with nothing listening: bound, then released.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10000ms) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return predicate();
}

class HttpFetcherTest : public ::testing::Test {
 protected:
  LoopbackImageServer server_;
};

// ---- content ----

TEST_F(HttpFetcherTest, FetchesEachFormatAndReadsItsDimensions) {
  HttpFetcher fetcher(loopback_policy());
  const struct {
    const char* ext;
    ImageFormat format;
    const char* mime;
  } cases[] = {{"jpg", ImageFormat::jpeg, "image/jpeg"},
               {"png", ImageFormat::png, "image/png"},
               {"gif", ImageFormat::gif, "image/gif"},
               {"webp", ImageFormat::webp, "image/webp"}};
  for (const auto& c : cases) {
    const auto url = server_.url(std::string("/img/a.") + c.ext + "?size=5000&w=321&h=123");
    const auto result = fetch_one(fetcher, url);
    ASSERT_EQ(result.status, Status::ok) << c.ext << ": " << result.error;
    EXPECT_EQ(result.http_status, 200);
    EXPECT_EQ(result.attempts, 1);
    EXPECT_EQ(result.body.size(), 5000u);
    EXPECT_EQ(result.image.format, c.format);
    EXPECT_EQ(result.image.mime, c.mime);
    EXPECT_EQ(result.image.width, 321u);
    EXPECT_EQ(result.image.height, 123u);
    EXPECT_EQ(result.content_type, c.mime);
    EXPECT_FALSE(result.etag.empty());
    EXPECT_EQ(result.last_modified, "Wed, 01 Jan 2025 00:00:00 GMT");
    EXPECT_EQ(result.url, url);
    EXPECT_EQ(result.effective_url, url);
    EXPECT_TRUE(result.error.empty());
  }
}

TEST_F(HttpFetcherTest, SendsUserAgentAndAcceptAndIgnoresProxyEnvironment) {
  // A proxy variable pointing nowhere: honoured, it would make every fetch fail.
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  ::setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
  {
    auto policy = loopback_policy();
    policy.user_agent = "sluice-test/9";
    HttpFetcher fetcher(policy);
    const auto result = fetch_one(fetcher, server_.url("/img/ua.png"));
    EXPECT_EQ(result.status, Status::ok) << result.error;
  }
  ::unsetenv("http_proxy");
  ::unsetenv("HTTP_PROXY");
  const auto heads = server_.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_NE(heads[0].find("User-Agent: sluice-test/9\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[0].find("Accept: image/jpeg,image/png,image/gif,image/webp\r\n"), std::string::npos) << heads[0];
}

TEST_F(HttpFetcherTest, ChecksContentTypeIgnoringParametersAndCase) {
  HttpFetcher fetcher(loopback_policy());
  auto result = fetch_one(fetcher, server_.url("/img/a.png?content_type=text/html"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "content type text/html is not allowed");
  EXPECT_EQ(result.attempts, 1);
  result = fetch_one(fetcher, server_.url("/img/b.png?content_type=IMAGE/PNG%3B%20charset%3Dbinary"));
  EXPECT_EQ(result.status, Status::ok) << result.error;

  auto policy = loopback_policy();
  policy.allowed_content_types.clear();
  HttpFetcher any_type(policy);
  result = fetch_one(any_type, server_.url("/img/c.png?content_type=application/octet-stream"));
  EXPECT_EQ(result.status, Status::ok) << result.error;
}

TEST_F(HttpFetcherTest, RejectsABodyThatIsNotAnImage) {
  HttpFetcher fetcher(loopback_policy());
  const auto result = fetch_one(fetcher, server_.url("/img/fake.jpg?not_image=1"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "not an image (bytes do not match JPEG, PNG, GIF or WebP)");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_TRUE(result.body.empty());
}

TEST_F(HttpFetcherTest, CapsTheBodyWithAndWithoutContentLength) {
  auto policy = loopback_policy();
  policy.max_body_bytes = 1000;
  HttpFetcher fetcher(policy);
  for (const char* query : {"?size=5000", "?size=5000&chunked=1", "?endless=1"}) {
    const auto result = fetch_one(fetcher, server_.url(std::string("/img/big.png") + query));
    EXPECT_EQ(result.status, Status::failed) << query;
    EXPECT_EQ(result.error, "body exceeds 1000 bytes") << query;
    EXPECT_EQ(result.attempts, 1) << query;
  }
  EXPECT_EQ(fetch_one(fetcher, server_.url("/img/fits.png?size=1000&chunked=1")).status, Status::ok);
}

TEST_F(HttpFetcherTest, CapsTheHeaders) {
  auto policy = loopback_policy();
  policy.max_header_bytes = 2048;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, server_.url("/img/h.png?header_bytes=4000"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "response headers exceed 2048 bytes");
  EXPECT_EQ(fetch_one(fetcher, server_.url("/img/h.png?header_bytes=500")).status, Status::ok);
}

// ---- conditional requests ----

TEST_F(HttpFetcherTest, ConditionalRequestsGiveNotModified) {
  HttpFetcher fetcher(loopback_policy());
  const auto url = server_.url("/img/cond.jpg?size=2000");
  const auto first = fetch_one(fetcher, url);
  ASSERT_EQ(first.status, Status::ok) << first.error;
  ASSERT_FALSE(first.etag.empty());

  const auto by_etag = fetch_one(fetcher, FetchJob{url, first.etag, "", nullptr});
  EXPECT_EQ(by_etag.status, Status::not_modified) << by_etag.error;
  EXPECT_EQ(by_etag.http_status, 304);
  EXPECT_TRUE(by_etag.body.empty());
  EXPECT_EQ(by_etag.etag, first.etag);

  const auto by_date = fetch_one(fetcher, FetchJob{url, "", first.last_modified, nullptr});
  EXPECT_EQ(by_date.status, Status::not_modified) << by_date.error;

  const auto stale = fetch_one(fetcher, FetchJob{url, "\"other\"", "", nullptr});
  EXPECT_EQ(stale.status, Status::ok) << stale.error;

  const auto heads = server_.heads();
  ASSERT_EQ(heads.size(), 4u);
  EXPECT_NE(heads[1].find("If-None-Match: " + first.etag + "\r\n"), std::string::npos) << heads[1];
  EXPECT_NE(heads[2].find("If-Modified-Since: " + first.last_modified + "\r\n"), std::string::npos) << heads[2];
}

TEST_F(HttpFetcherTest, RefusesHeaderInjectionThroughConditionalValues) {
  HttpFetcher fetcher(loopback_policy());
  const auto result = fetch_one(fetcher, FetchJob{server_.url("/img/x.png"), "\"a\"\r\nX-Evil: 1", "", nullptr});
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_NE(result.error.find("line break"), std::string::npos) << result.error;
  EXPECT_EQ(server_.requests(), 0u);
}

// ---- retries ----

TEST_F(HttpFetcherTest, RetriesServerErrorsThenSucceeds) {
  HttpFetcher fetcher(loopback_policy());
  const auto result = fetch_one(fetcher, server_.url("/img/flaky.png?fail_first=2&status=500"));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(fetcher.stats().retries, 2u);
}

TEST_F(HttpFetcherTest, GivesUpAfterMaxAttempts) {
  auto policy = loopback_policy();
  policy.max_attempts = 3;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, server_.url("/img/down.png?status=503"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "HTTP 503");
  EXPECT_EQ(result.http_status, 503);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(server_.requests(), 3u);
}

TEST_F(HttpFetcherTest, DoesNotRetryClientErrors) {
  HttpFetcher fetcher(loopback_policy());
  for (int status : {400, 403, 404, 410}) {
    const auto result = fetch_one(fetcher, server_.url("/img/gone.png?status=" + std::to_string(status)));
    EXPECT_EQ(result.status, Status::failed);
    EXPECT_EQ(result.error, "HTTP " + std::to_string(status));
    EXPECT_EQ(result.attempts, 1);
  }
  EXPECT_EQ(fetch_one(fetcher, server_.url("/elsewhere")).error, "HTTP 404");
  EXPECT_EQ(server_.requests(), 5u);
}

TEST_F(HttpFetcherTest, HonoursRetryAfterOn429) {
  HttpFetcher fetcher(loopback_policy());
  const auto start = Clock::now();
  const auto result = fetch_one(fetcher, server_.url("/img/slow-down.png?fail_first=1&status=429&retry_after=1"));
  const long took = elapsed_ms(start);
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_EQ(result.attempts, 2);
  EXPECT_GE(took, 1000);
  EXPECT_LT(took, 5000);
}

TEST_F(HttpFetcherTest, CapsRetryAfter) {
  auto policy = loopback_policy();
  policy.retry_after_cap_ms = 300;
  HttpFetcher fetcher(policy);
  const auto start = Clock::now();
  const auto result = fetch_one(fetcher, server_.url("/img/later.png?fail_first=1&status=503&retry_after=3600"));
  const long took = elapsed_ms(start);
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_GE(took, 300);
  EXPECT_LT(took, 3000);
}

TEST_F(HttpFetcherTest, BackoffStaysWithinItsCeiling) {
  auto policy = loopback_policy();
  policy.max_attempts = 5;
  policy.backoff_initial_ms = 50;
  policy.backoff_max_ms = 80;
  HttpFetcher fetcher(policy);
  const auto start = Clock::now();
  const auto result = fetch_one(fetcher, server_.url("/img/x.png?status=500"));
  EXPECT_EQ(result.attempts, 5);
  // Four waits of at most 80 ms each, plus the requests themselves.
  EXPECT_LT(elapsed_ms(start), 2000);
}

TEST_F(HttpFetcherTest, RetriesABodyCutOffMidway) {
  auto policy = loopback_policy();
  policy.max_attempts = 2;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, server_.url("/img/cut.jpg?size=100000&reset_after=1000"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.attempts, 2);
  EXPECT_TRUE(result.curl_code == 18 || result.curl_code == 56) << result.curl_code << " " << result.error;
  EXPECT_EQ(server_.requests(), 2u);
}

TEST_F(HttpFetcherTest, RetriesConnectErrors) {
  auto policy = loopback_policy();
  policy.max_attempts = 3;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, "http://127.0.0.1:" + std::to_string(closed_port()) + "/img/a.png");
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.curl_code, 7);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.error.rfind("curl error 7: ", 0), 0u) << result.error;
}

TEST_F(HttpFetcherTest, TimesOutAndRetries) {
  auto policy = loopback_policy();
  policy.transfer_timeout_ms = 200;
  policy.max_attempts = 2;
  policy.max_in_flight = 1;
  HttpFetcher fetcher(policy);
  // The first fetch leaves a kept-alive connection, so the timed-out attempt runs on a reused one.
  ASSERT_EQ(fetch_one(fetcher, server_.url("/img/warm.png")).status, Status::ok);
  const auto result = fetch_one(fetcher, server_.url("/img/stuck.png?latency=5000"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "timeout after 200 ms");
  EXPECT_EQ(result.curl_code, 28);
  EXPECT_EQ(result.attempts, 2);
}

TEST_F(HttpFetcherTest, ReportsConnectTimeouts) {
  // A listener that never accepts, with its one-slot accept queue already taken: further SYNs
  // are dropped, so the connect neither succeeds nor fails until the timeout.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::vector<int> fillers;
  for (int i = 0; i < 2; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(50ms);
  auto policy = loopback_policy();
  policy.connect_timeout_ms = 300;
  policy.max_attempts = 1;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/img/a.png");
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.curl_code, 28);
  EXPECT_EQ(result.error, "connect timeout after 300 ms");
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_F(HttpFetcherTest, TrickledBodyHitsTheTransferTimeout) {
  auto policy = loopback_policy();
  policy.transfer_timeout_ms = 500;
  policy.max_attempts = 1;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, server_.url("/img/drip.png?size=20000&trickle=1000"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "timeout after 500 ms");
}

TEST_F(HttpFetcherTest, TimeoutDoesNotRunWhileQueued) {
  auto policy = loopback_policy();
  policy.max_in_flight = 1;
  policy.transfer_timeout_ms = 700;
  policy.max_attempts = 1;
  HttpFetcher fetcher(policy);
  Collector collector;
  // Five transfers of 300 ms through one handle: the last waits 1.2 s, far beyond the timeout.
  for (std::size_t i = 0; i < 5; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/q" + std::to_string(i) + ".png?latency=300"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(collector.wait_for(5, 20s));
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(collector.result(i).status, Status::ok) << collector.result(i).error;
  EXPECT_EQ(server_.max_in_flight(), 1u);
}

TEST_F(HttpFetcherTest, AWaitingRetryHoldsNoHandle) {
  auto policy = loopback_policy();
  policy.max_in_flight = 1;
  policy.max_attempts = 2;
  HttpFetcher fetcher(policy);
  Collector collector;
  std::atomic<long> done_at[2] = {0, 0};
  const auto start = Clock::now();
  fetcher.submit(FetchJob{server_.url("/img/wait.png?fail_first=1&status=503&retry_after=1"), "", "", nullptr},
                 [&, cb = collector.callback(0)](FetchResult&& r) mutable {
                   done_at[0] = elapsed_ms(start);
                   cb(std::move(r));
                 });
  ASSERT_TRUE(eventually([&] { return fetcher.stats().waiting_retry == 1; }));
  EXPECT_EQ(fetcher.stats().in_flight, 0u);
  fetcher.submit(FetchJob{server_.url("/img/meanwhile.png"), "", "", nullptr},
                 [&, cb = collector.callback(1)](FetchResult&& r) mutable {
                   done_at[1] = elapsed_ms(start);
                   cb(std::move(r));
                 });
  ASSERT_TRUE(collector.wait_for(2, 10s));
  EXPECT_EQ(collector.result(0).status, Status::ok);
  EXPECT_EQ(collector.result(0).attempts, 2);
  EXPECT_EQ(collector.result(1).status, Status::ok);
  EXPECT_LT(done_at[1].load(), done_at[0].load());
  EXPECT_LT(done_at[1].load(), 900);
}

// ---- security ----

TEST_F(HttpFetcherTest, BlocksPrivateAddressesBeforeConnecting) {
  auto policy = FetchPolicy{};
  policy.connect_timeout_ms = 2000;
  HttpFetcher fetcher(policy);
  const std::string port = std::to_string(server_.port());
  const struct {
    std::string url;
    std::string error;
  } cases[] = {
      {"http://127.0.0.1:" + port + "/img/a.png", "blocked address 127.0.0.1 (loopback)"},
      {"http://10.0.0.1/img/a.png", "blocked address 10.0.0.1 (private network)"},
      {"http://192.168.1.1/img/a.png", "blocked address 192.168.1.1 (private network)"},
      {"http://169.254.169.254/latest/meta-data", "blocked address 169.254.169.254 (link-local)"},
      {"http://0.0.0.0:" + port + "/img/a.png", "blocked address 0.0.0.0 (unspecified address)"},
      {"http://[::1]:" + port + "/img/a.png", "blocked address ::1 (loopback)"},
      {"http://[::ffff:127.0.0.1]:" + port + "/img/a.png", "blocked address ::ffff:127.0.0.1 (loopback)"},
  };
  for (const auto& c : cases) {
    const auto result = fetch_one(fetcher, c.url);
    EXPECT_EQ(result.status, Status::failed) << c.url;
    EXPECT_EQ(result.error, c.error) << c.url;
    EXPECT_EQ(result.attempts, 1) << c.url;
  }
  EXPECT_EQ(server_.connections(), 0u);
}

TEST_F(HttpFetcherTest, ChecksEveryRedirectHop) {
  HttpFetcher fetcher(loopback_policy());
  const std::string port = std::to_string(server_.port());
  const auto target = server_.url("/img/final.png");
  auto result = fetch_one(fetcher, server_.url("/img/hop.png?redirect=" + target));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_EQ(result.effective_url, target);

  result = fetch_one(fetcher, server_.url("/img/hop.png?redirect=http://127.0.0.2:" + port + "/img/final.png"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "blocked address 127.0.0.2 (loopback)");

  result = fetch_one(fetcher, server_.url("/img/hop.png?redirect=file:///etc/passwd"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.curl_code, 1) << result.error;
}

TEST_F(HttpFetcherTest, DoesNotCarryCredentialsToAnotherHost) {
  LoopbackImageServer other;
  HttpFetcher fetcher(loopback_policy());
  const auto url = "http://user:secret@127.0.0.1:" + std::to_string(server_.port()) +
                   "/img/auth.png?redirect=" + other.url("/img/elsewhere.png");
  const auto result = fetch_one(fetcher, url);
  EXPECT_EQ(result.status, Status::ok) << result.error;
  ASSERT_EQ(server_.heads().size(), 1u);
  EXPECT_NE(server_.heads()[0].find("Authorization: Basic "), std::string::npos);
  ASSERT_EQ(other.heads().size(), 1u);
  EXPECT_EQ(other.heads()[0].find("Authorization"), std::string::npos) << other.heads()[0];
}

TEST_F(HttpFetcherTest, LimitsRedirects) {
  auto policy = loopback_policy();
  policy.max_redirects = 2;
  HttpFetcher fetcher(policy);
  const auto c = server_.url("/img/c.png?redirect=" + server_.url("/img/d.png"));
  const auto b = server_.url("/img/b.png?redirect=" + c);
  EXPECT_EQ(fetch_one(fetcher, b).status, Status::ok);
  const auto a = server_.url("/img/a.png?redirect=" + b);
  const auto result = fetch_one(fetcher, a);
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "too many redirects (more than 2)");
}

TEST_F(HttpFetcherTest, RefusesSchemesOtherThanHttp) {
  HttpFetcher fetcher(loopback_policy());
  for (const char* url :
       {"file:///etc/passwd", "ftp://127.0.0.1/x.png", "gopher://127.0.0.1/x", "not a url", "/img/a.png"}) {
    const auto result = fetch_one(fetcher, url);
    EXPECT_EQ(result.status, Status::failed) << url;
    EXPECT_EQ(result.attempts, 0) << url;
    EXPECT_FALSE(result.error.empty());
  }
  EXPECT_EQ(fetch_one(fetcher, "file:///etc/passwd").error, "unsupported URL scheme file (only http and https)");
}

// ---- bounds, sharing, threads ----

TEST_F(HttpFetcherTest, BoundsTransfersInFlight) {
  auto policy = loopback_policy();
  policy.max_in_flight = 8;
  HttpFetcher fetcher(policy);
  Collector collector;
  const std::size_t jobs = 40;
  for (std::size_t i = 0; i < jobs; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/b" + std::to_string(i) + ".gif?latency=100"), "", "", nullptr},
                   collector.callback(i));
  }
  std::size_t peak = 0;
  while (collector.total() < jobs) {
    const auto stats = fetcher.stats();
    peak = std::max(peak, stats.in_flight);
    EXPECT_LE(stats.in_flight, 8u);
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server_.max_in_flight(), 8u);
  EXPECT_LE(peak, 8u);
  EXPECT_LE(server_.connections(), 8u);  // handles and connections are reused
  const auto stats = fetcher.stats();
  EXPECT_EQ(stats.completed, jobs);
  EXPECT_EQ(stats.ok, jobs);
  EXPECT_EQ(stats.in_flight + stats.queued + stats.waiting_retry, 0u);
}

TEST_F(HttpFetcherTest, BoundsTransfersPerHost) {
  auto policy = loopback_policy();
  policy.max_in_flight = 8;
  policy.max_per_host = 2;
  HttpFetcher fetcher(policy);
  Collector collector;
  for (std::size_t i = 0; i < 12; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/h" + std::to_string(i) + ".png?latency=50"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(collector.wait_for(12, 20s));
  EXPECT_EQ(server_.max_in_flight(), 2u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(collector.result(i).status, Status::ok);
}

TEST_F(HttpFetcherTest, ReusesConnections) {
  auto policy = loopback_policy();
  policy.max_in_flight = 1;
  HttpFetcher fetcher(policy);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(fetch_one(fetcher, server_.url("/img/r" + std::to_string(i) + ".png")).status, Status::ok);
  }
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(HttpFetcherTest, SharesOneTransferBetweenIdenticalPendingRequests) {
  HttpFetcher fetcher(loopback_policy());
  Collector collector;
  std::vector<int> tags(10);
  const auto url = server_.url("/img/same.png?latency=200&size=3000");
  for (std::size_t i = 0; i < tags.size(); ++i) {
    fetcher.submit(FetchJob{url, "", "", &tags[i]}, collector.callback(i));
  }
  fetcher.submit(FetchJob{url, "\"different\"", "", nullptr}, collector.callback(10));
  ASSERT_TRUE(collector.wait_for(11, 10s));
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto result = collector.result(i);
    EXPECT_EQ(collector.calls(i), 1);
    EXPECT_EQ(result.status, Status::ok);
    EXPECT_EQ(result.body.size(), 3000u);
    EXPECT_EQ(result.user, &tags[i]);
  }
  EXPECT_EQ(server_.requests(), 2u);  // one shared transfer + the one with another etag
  EXPECT_EQ(fetcher.stats().shared, 9u);
  // Once finished, the same URL is fetched again.
  EXPECT_EQ(fetch_one(fetcher, url).status, Status::ok);
  EXPECT_EQ(server_.requests(), 3u);
}

TEST_F(HttpFetcherTest, ShardsAcrossIoThreads) {
  auto policy = loopback_policy();
  policy.io_threads = 2;
  policy.max_in_flight = 6;
  HttpFetcher fetcher(policy);
  Collector collector;
  for (std::size_t i = 0; i < 60; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/s" + std::to_string(i % 30) + ".png?latency=30"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(collector.wait_for(60, 20s));
  for (std::size_t i = 0; i < 60; ++i) EXPECT_EQ(collector.result(i).status, Status::ok);
  EXPECT_LE(server_.max_in_flight(), 6u);
  EXPECT_EQ(fetcher.stats().completed, 60u);
}

TEST_F(HttpFetcherTest, SubmitWakesAnIdleLoop) {
  HttpFetcher fetcher(loopback_policy());
  std::this_thread::sleep_for(200ms);  // the loop now sleeps with no timeout at all
  const auto start = Clock::now();
  EXPECT_EQ(fetch_one(fetcher, server_.url("/img/now.png")).status, Status::ok);
  EXPECT_LT(elapsed_ms(start), 1000);
}

TEST_F(HttpFetcherTest, LoopDoesNotSpinWhileWaiting) {
  auto policy = loopback_policy();
  policy.max_in_flight = 16;
  HttpFetcher fetcher(policy);
  Collector collector;
  for (std::size_t i = 0; i < 16; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/idle" + std::to_string(i) + ".png?latency=1000"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(eventually([&] { return server_.in_flight() == 16; }));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  ASSERT_TRUE(collector.wait_for(16, 10s));
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto cpu_ms = [](const rusage& u) {
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000L + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000L;
  };
  // Nearly a second of waiting; a loop spinning on a truncated timer would burn most of it.
  EXPECT_LT(cpu_ms(after) - cpu_ms(before), 300);
}

TEST_F(HttpFetcherTest, ManyThreadsSubmitAndEveryCallbackRunsOnce) {
  auto policy = loopback_policy();
  policy.max_in_flight = 16;
  HttpFetcher fetcher(policy);
  Collector collector;
  constexpr std::size_t threads = 4;
  constexpr std::size_t per_thread = 100;
  std::vector<std::thread> submitters;
  for (std::size_t t = 0; t < threads; ++t) {
    submitters.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_thread; ++i) {
        const std::size_t index = t * per_thread + i;
        // Every URL is requested by two threads, so some requests share transfers.
        fetcher.submit(FetchJob{server_.url("/img/m" + std::to_string(index % 200) + ".png"), "", "", nullptr},
                       collector.callback(index));
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  ASSERT_TRUE(collector.wait_for(threads * per_thread, 30s));
  for (std::size_t i = 0; i < threads * per_thread; ++i) {
    EXPECT_EQ(collector.calls(i), 1) << i;
    EXPECT_EQ(collector.result(i).status, Status::ok) << i;
  }
  EXPECT_EQ(fetcher.stats().completed, threads * per_thread);
}

TEST_F(HttpFetcherTest, CallbacksMaySubmitAndAbort) {
  HttpFetcher fetcher(loopback_policy());
  std::promise<FetchResult> second;
  fetcher.submit(FetchJob{server_.url("/img/first.png"), "", "", nullptr}, [&](FetchResult&& first) {
    EXPECT_EQ(first.status, Status::ok);
    fetcher.submit(FetchJob{server_.url("/img/second.png"), "", "", nullptr},
                   [&](FetchResult&& r) { second.set_value(std::move(r)); });
  });
  auto future = second.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().status, Status::ok);

  std::promise<FetchResult> slow;
  fetcher.submit(FetchJob{server_.url("/img/slow.png?latency=5000"), "", "", nullptr},
                 [&](FetchResult&& r) { slow.set_value(std::move(r)); });
  fetcher.submit(FetchJob{server_.url("/img/trigger.png"), "", "", nullptr},
                 [&](FetchResult&&) { fetcher.abort_all(); });
  auto slow_future = slow.get_future();
  ASSERT_EQ(slow_future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(slow_future.get().status, Status::aborted);
}

TEST_F(HttpFetcherTest, ACallbackThatThrowsDoesNotStopTheOthers) {
  HttpFetcher fetcher(loopback_policy());
  Collector collector;
  fetcher.submit(FetchJob{server_.url("/img/t0.png"), "", "", nullptr},
                 [](FetchResult&&) { throw std::runtime_error("callback bug"); });
  for (std::size_t i = 0; i < 3; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/t" + std::to_string(i + 1) + ".png"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(collector.wait_for(3, 10s));
  EXPECT_TRUE(eventually([&] { return fetcher.stats().callback_exceptions == 1; }));
}

// ---- abort and shutdown ----

TEST_F(HttpFetcherTest, AbortAllCompletesAThousandInFlightTransfersPromptly) {
  constexpr std::size_t jobs = 1000;
  auto policy = loopback_policy();
  policy.max_in_flight = jobs;
  HttpFetcher fetcher(policy);
  std::vector<std::atomic<int>> calls(jobs);
  std::atomic<std::size_t> aborted{0};
  for (std::size_t i = 0; i < jobs; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/stress" + std::to_string(i) + ".jpg?latency=60000"), "", "", nullptr},
                   [&, i](FetchResult&& r) {
                     calls[i].fetch_add(1);
                     if (r.status == Status::aborted && r.error == "aborted") aborted.fetch_add(1);
                   });
  }
  ASSERT_TRUE(eventually([&] { return server_.in_flight() == jobs; }, 30s)) << server_.in_flight();
  EXPECT_EQ(fetcher.stats().in_flight, jobs);
  const auto start = Clock::now();
  fetcher.abort_all();
  const long took = elapsed_ms(start);
  std::cout << "abort_all with " << jobs << " transfers in flight: " << took << " ms\n";
  EXPECT_LT(took, 5000);
  EXPECT_EQ(aborted.load(), jobs);
  for (std::size_t i = 0; i < jobs; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
  const auto stats = fetcher.stats();
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.aborted, jobs);
  // Still usable afterwards.
  EXPECT_EQ(fetch_one(fetcher, server_.url("/img/after.png")).status, Status::ok);
  for (std::size_t i = 0; i < jobs; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
}

TEST_F(HttpFetcherTest, AbortAllReachesQueuedAndWaitingJobs) {
  auto policy = loopback_policy();
  policy.max_in_flight = 2;
  HttpFetcher fetcher(policy);
  Collector collector;
  fetcher.submit(FetchJob{server_.url("/img/w.png?status=503&retry_after=30"), "", "", nullptr}, collector.callback(0));
  ASSERT_TRUE(eventually([&] { return fetcher.stats().waiting_retry == 1; }));
  for (std::size_t i = 1; i <= 10; ++i) {
    fetcher.submit(FetchJob{server_.url("/img/long" + std::to_string(i) + ".png?latency=30000"), "", "", nullptr},
                   collector.callback(i));
  }
  // The loop may take the ten submissions in more than one pass: wait for the last.
  ASSERT_TRUE(eventually([&] {
    const auto stats = fetcher.stats();
    return stats.in_flight == 2 && stats.queued == 8;
  })) << fetcher.stats().in_flight << " " << fetcher.stats().queued;
  fetcher.abort_all();
  EXPECT_EQ(collector.total(), 11u);
  for (std::size_t i = 0; i <= 10; ++i) {
    EXPECT_EQ(collector.calls(i), 1);
    EXPECT_EQ(collector.result(i).status, Status::aborted);
  }
  EXPECT_EQ(collector.result(0).attempts, 1);
  const auto stats = fetcher.stats();
  EXPECT_EQ(stats.in_flight + stats.queued + stats.waiting_retry, 0u);
}

TEST_F(HttpFetcherTest, AnAbortedRequestIsFetchedAfreshWhenSubmittedAgain) {
  HttpFetcher fetcher(loopback_policy());
  const auto url = server_.url("/img/again.png?latency=300");
  Collector collector;
  fetcher.submit(FetchJob{url, "", "", nullptr}, collector.callback(0));
  ASSERT_TRUE(eventually([&] { return server_.in_flight() == 1; }));
  fetcher.abort_all();
  EXPECT_EQ(collector.result(0).status, Status::aborted);
  fetcher.submit(FetchJob{url, "", "", nullptr}, collector.callback(1));
  ASSERT_TRUE(collector.wait_for(2, 10s));
  EXPECT_EQ(collector.result(1).status, Status::ok);
  EXPECT_EQ(collector.result(1).attempts, 1);
  EXPECT_EQ(server_.requests(), 2u);
}

TEST_F(HttpFetcherTest, SubmitRacingAbortAllGetsExactlyOneCallback) {
  auto policy = loopback_policy();
  policy.max_in_flight = 8;
  HttpFetcher fetcher(policy);
  Collector collector;
  constexpr std::size_t jobs = 400;
  std::atomic<bool> stop{false};
  std::thread aborter([&] {
    while (!stop) {
      fetcher.abort_all();
      std::this_thread::sleep_for(1ms);
    }
  });
  std::vector<std::thread> submitters;
  for (std::size_t t = 0; t < 2; ++t) {
    submitters.emplace_back([&, t] {
      for (std::size_t i = t; i < jobs; i += 2) {
        fetcher.submit(FetchJob{server_.url("/img/race" + std::to_string(i % 50) + ".png?latency=5"), "", "", nullptr},
                       collector.callback(i));
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  stop = true;
  aborter.join();
  ASSERT_TRUE(collector.wait_for(jobs, 30s));
  for (std::size_t i = 0; i < jobs; ++i) {
    EXPECT_EQ(collector.calls(i), 1) << i;
    const auto status = collector.result(i).status;
    EXPECT_TRUE(status == Status::ok || status == Status::aborted) << i;
  }
  EXPECT_EQ(fetcher.stats().completed, jobs);
}

TEST_F(HttpFetcherTest, DestructionAbortsEverythingPending) {
  Collector collector;
  {
    auto policy = loopback_policy();
    policy.max_in_flight = 4;
    HttpFetcher fetcher(policy);
    for (std::size_t i = 0; i < 20; ++i) {
      fetcher.submit(FetchJob{server_.url("/img/d" + std::to_string(i) + ".png?latency=30000"), "", "", nullptr},
                     collector.callback(i));
    }
    fetcher.submit(FetchJob{server_.url("/img/d-retry.png?status=500&retry_after=30"), "", "", nullptr},
                   collector.callback(20));
    ASSERT_TRUE(eventually([&] { return fetcher.stats().in_flight == 4; }));
  }
  EXPECT_EQ(collector.total(), 21u);
  for (std::size_t i = 0; i <= 20; ++i) {
    EXPECT_EQ(collector.calls(i), 1);
    EXPECT_EQ(collector.result(i).status, Status::aborted);
  }
}

// ---- construction ----

TEST(HttpFetcherPolicy, RejectsUnusablePolicies) {
  auto bad = [](auto change) {
    FetchPolicy policy;
    change(policy);
    return policy;
  };
  EXPECT_THROW(HttpFetcher(bad([](FetchPolicy& p) { p.max_in_flight = 0; })), std::invalid_argument);
  EXPECT_THROW(HttpFetcher(bad([](FetchPolicy& p) { p.max_attempts = 0; })), std::invalid_argument);
  EXPECT_THROW(HttpFetcher(bad([](FetchPolicy& p) { p.transfer_timeout_ms = 0; })), std::invalid_argument);
  EXPECT_THROW(HttpFetcher(bad([](FetchPolicy& p) { p.allow_networks = {"10.0.0.0/33"}; })), std::invalid_argument);
  EXPECT_THROW(HttpFetcher(bad([](FetchPolicy& p) { p.user_agent = "a\r\nb: c"; })), std::invalid_argument);
}

TEST(HttpFetcherPolicy, RejectsAnEmptyCallback) {
  HttpFetcher fetcher(FetchPolicy{});
  EXPECT_THROW(fetcher.submit(FetchJob{"http://example.invalid/", "", "", nullptr}, FetchCallback{}),
               std::invalid_argument);
  EXPECT_EQ(fetcher.stats().submitted, 0u);
}

}  // namespace
}  // namespace sluice
