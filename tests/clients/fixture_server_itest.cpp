// Integration tests of HttpFetcher against the real sluice_fixture_server binary (CTest label: integration).
//
// The binary comes from $SLUICE_FIXTURE_SERVER; when it is unset or cannot be started every test
// fails, since a silently skipped suite would hide a broken build. The throughput sweep is
// DISABLED_ (run it with --gtest_also_run_disabled_tests): it takes minutes and asserts nothing.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clients/fetch_test_support.hpp"
#include "clients/http_fetcher.hpp"
#include "support/fixture_server.hpp"

extern char** environ;

namespace sluice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Collector;
using test::fetch_one;
using test::FixtureServer;
using test::loopback_policy;
using Status = FetchResult::Status;

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

class FixtureServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server().error().empty()) << server().error();
    server().reset_stats();
  }
  static FixtureServer& server() { return FixtureServer::instance(); }
  // fail_first counts per key; a fresh key per test keeps reruns and orderings independent.
  static std::string unique_key() {
    static std::atomic<int> counter{0};
    return std::to_string(getpid()) + "-" + std::to_string(counter++);
  }
};

TEST_F(FixtureServerTest, FetchesEveryFormatWithItsDimensions) {
  HttpFetcher fetcher(loopback_policy());
  const struct {
    const char* ext;
    ImageFormat format;
  } cases[] = {
      {"jpg", ImageFormat::jpeg}, {"png", ImageFormat::png}, {"gif", ImageFormat::gif}, {"webp", ImageFormat::webp}};
  for (const auto& c : cases) {
    const auto result = fetch_one(fetcher, server().url(std::string("/img/p.") + c.ext + "?w=640&h=480&size=20000"));
    ASSERT_EQ(result.status, Status::ok) << c.ext << ": " << result.error;
    EXPECT_EQ(result.image.format, c.format) << c.ext;
    EXPECT_EQ(result.image.width, 640u) << c.ext;
    EXPECT_EQ(result.image.height, 480u) << c.ext;
    EXPECT_FALSE(result.etag.empty());
    EXPECT_FALSE(result.last_modified.empty());
  }
}

TEST_F(FixtureServerTest, RevalidatesWithEtagAndDate) {
  HttpFetcher fetcher(loopback_policy());
  const auto url = server().url("/img/cond.png?size=5000");
  const auto first = fetch_one(fetcher, url);
  ASSERT_EQ(first.status, Status::ok) << first.error;
  EXPECT_EQ(fetch_one(fetcher, FetchJob{url, first.etag, "", nullptr}).status, Status::not_modified);
  EXPECT_EQ(fetch_one(fetcher, FetchJob{url, "", first.last_modified, nullptr}).status, Status::not_modified);
  EXPECT_EQ(server().stat("responses_304"), 2);
}

TEST_F(FixtureServerTest, RetriesInjectedFailures) {
  HttpFetcher fetcher(loopback_policy());
  auto result = fetch_one(fetcher, server().url("/img/f.png?fail_first=2&status=502&key=" + unique_key()));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_EQ(result.attempts, 3);
  result = fetch_one(fetcher, server().url("/img/f.png?status=404"));
  EXPECT_EQ(result.error, "HTTP 404");
  EXPECT_EQ(result.attempts, 1);
}

TEST_F(FixtureServerTest, HonoursRetryAfterSecondsAndDates) {
  HttpFetcher fetcher(loopback_policy());
  auto start = Clock::now();
  auto result =
      fetch_one(fetcher, server().url("/img/ra.png?fail_first=1&status=429&retry_after=1&key=" + unique_key()));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_GE(elapsed_ms(start), 1000);
  start = Clock::now();
  result =
      fetch_one(fetcher, server().url("/img/rd.png?fail_first=1&status=503&retry_after_date=2&key=" + unique_key()));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  EXPECT_EQ(result.attempts, 2);
  // An HTTP date has whole-second resolution: two seconds ahead is at least one second of waiting.
  EXPECT_GE(elapsed_ms(start), 900);
}

TEST_F(FixtureServerTest, RetriesABodyCutOffMidway) {
  auto policy = loopback_policy();
  policy.max_attempts = 3;
  HttpFetcher fetcher(policy);
  const auto result = fetch_one(fetcher, server().url("/img/cut.jpg?size=200000&reset_after=5000"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_TRUE(result.curl_code == 18 || result.curl_code == 56) << result.error;
}

TEST_F(FixtureServerTest, CapsChunkedAndEndlessBodies) {
  auto policy = loopback_policy();
  policy.max_body_bytes = 64 * 1024;
  HttpFetcher fetcher(policy);
  for (const char* query : {"?size=200000", "?size=200000&chunked=1", "?endless=1"}) {
    const auto result = fetch_one(fetcher, server().url(std::string("/img/big.png") + query));
    EXPECT_EQ(result.status, Status::failed) << query;
    EXPECT_EQ(result.error, "body exceeds 65536 bytes") << query;
  }
}

TEST_F(FixtureServerTest, RejectsWrongContent) {
  HttpFetcher fetcher(loopback_policy());
  EXPECT_EQ(fetch_one(fetcher, server().url("/img/t.png?content_type=text/html")).error,
            "content type text/html is not allowed");
  EXPECT_EQ(fetch_one(fetcher, server().url("/img/t.png?not_image=1")).error,
            "not an image (bytes do not match JPEG, PNG, GIF or WebP)");
}

TEST_F(FixtureServerTest, StoresOnlyWholeWellFormedImages) {
  auto policy = loopback_policy();
  policy.max_attempts = 2;
  HttpFetcher fetcher(policy);
  for (const char* ext : {"jpg", "png", "gif", "webp"}) {
    for (const char* size : {"300", "4119", "4120", "70001"}) {
      const auto result = fetch_one(fetcher, server().url(std::string("/img/whole.") + ext + "?size=" + size));
      EXPECT_EQ(result.status, Status::ok) << ext << " " << size << ": " << result.error;
      EXPECT_EQ(result.body.size(), std::stoul(size));
    }
  }
  auto result = fetch_one(fetcher, server().url("/img/glued.jpg?magic_then_html=1"));
  EXPECT_EQ(result.error, "corrupt JPEG: invalid marker 0x3C at byte 3");
  EXPECT_EQ(result.attempts, 1);
  // Without a length, a closed connection looks like the end of the body; the image says otherwise.
  result = fetch_one(fetcher, server().url("/img/half.jpg?size=4000&cut=2000"));
  EXPECT_EQ(result.curl_code, 0);
  EXPECT_EQ(result.error, "truncated JPEG: no end-of-image marker");
  EXPECT_EQ(result.attempts, 2);
  result = fetch_one(fetcher, server().url("/img/half.png?size=4000&cut=2000"));
  EXPECT_EQ(result.error, "truncated PNG: chunk 'IDAT' at byte 33 runs past the end");
}

TEST_F(FixtureServerTest, RefusesAMalformedContentLength) {
  HttpFetcher fetcher(loopback_policy());
  auto result = fetch_one(fetcher, server().url("/img/cl.jpg?content_length=12abc"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "malformed Content-Length: 12abc");
  // The whole image arrives, yet the length that framed it was not a number.
  result = fetch_one(fetcher, server().url("/img/cl.jpg?content_length=2048%2C%204096"));
  EXPECT_EQ(result.error, "malformed Content-Length: 2048, 4096");
  result = fetch_one(fetcher, server().url("/img/cl.jpg?content_length=2048"));
  EXPECT_EQ(result.status, Status::ok) << result.error;
}

TEST_F(FixtureServerTest, RefusesAContentEncodingThatWasNotOffered) {
  HttpFetcher fetcher(loopback_policy());
  auto result = fetch_one(fetcher, server().url("/img/enc.png?content_encoding=br"));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "content encoding br was not offered");
  EXPECT_EQ(fetch_one(fetcher, server().url("/img/enc.png?content_encoding=gzip")).error,
            "content encoding gzip was not offered");
  EXPECT_EQ(fetch_one(fetcher, server().url("/img/enc.png?content_encoding=identity")).status, Status::ok);
}

TEST_F(FixtureServerTest, CapsTheBodyOfARedirectHop) {
  auto policy = loopback_policy();
  policy.max_body_bytes = 64 * 1024;
  policy.max_attempts = 3;
  HttpFetcher fetcher(policy);
  const auto result =
      fetch_one(fetcher, server().url("/img/r.png?endless=1&redirect=" + server().url("/img/target.png")));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "body exceeds 65536 bytes");
  EXPECT_EQ(result.attempts, 1);
  // A redirect's ordinary body does not count against the image that follows it.
  policy.max_body_bytes = 2048;
  HttpFetcher exact(policy);
  EXPECT_EQ(fetch_one(exact, server().url("/img/r.png?redirect=" + server().url("/img/target.png"))).status,
            Status::ok);
}

TEST_F(FixtureServerTest, DoesNotFollowUseProxy) {
  HttpFetcher fetcher(loopback_policy());
  const auto result =
      fetch_one(fetcher, server().url("/img/p.png?redirect_status=305&redirect=" + server().url("/img/target.png")));
  EXPECT_EQ(result.status, Status::failed);
  EXPECT_EQ(result.error, "HTTP 305 (Use Proxy) is not followed");
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(server().stat("requests"), 1);
}

TEST_F(FixtureServerTest, SaysAHugeHeaderIsTooLarge) {
  HttpFetcher fetcher(loopback_policy());
  for (const char* bytes : {"70000", "1000000"}) {
    const auto result = fetch_one(fetcher, server().url(std::string("/img/h.png?header_bytes=") + bytes));
    EXPECT_EQ(result.status, Status::failed);
    EXPECT_EQ(result.error, "response headers exceed 65536 bytes") << bytes;
  }
}

TEST_F(FixtureServerTest, GuardsRedirectHops) {
  HttpFetcher fetcher(loopback_policy());
  const std::string port = std::to_string(server().port());
  auto result = fetch_one(fetcher, server().url("/img/r.png?redirect=" + server().url("/img/target.png")));
  EXPECT_EQ(result.status, Status::ok) << result.error;
  result = fetch_one(fetcher, server().url("/img/r.png?redirect=http://127.0.0.2:" + port + "/img/target.png"));
  EXPECT_EQ(result.error, "blocked address 127.0.0.2 (loopback)");
  HttpFetcher strict{FetchPolicy{}};
  EXPECT_EQ(fetch_one(strict, server().url("/img/r.png")).error, "blocked address 127.0.0.1 (loopback)");
}

TEST_F(FixtureServerTest, TrickleRunsIntoTheTransferTimeout) {
  auto policy = loopback_policy();
  policy.transfer_timeout_ms = 400;
  policy.max_attempts = 1;
  HttpFetcher fetcher(policy);
  EXPECT_EQ(fetch_one(fetcher, server().url("/img/slow.png?size=100000&trickle=2000")).error, "timeout after 400 ms");
}

TEST_F(FixtureServerTest, SharesIdenticalPendingRequests) {
  HttpFetcher fetcher(loopback_policy());
  Collector collector;
  const auto url = server().url("/img/shared.jpg?latency=300");
  for (std::size_t i = 0; i < 20; ++i) fetcher.submit(FetchJob{url, "", "", nullptr}, collector.callback(i));
  ASSERT_TRUE(collector.wait_for(20, 10s));
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(collector.result(i).status, Status::ok);
  EXPECT_EQ(server().stat("requests"), 1);
}

TEST_F(FixtureServerTest, KeepsTransfersInFlightWithinTheBound) {
  auto policy = loopback_policy();
  policy.max_in_flight = 16;
  HttpFetcher fetcher(policy);
  Collector collector;
  for (std::size_t i = 0; i < 100; ++i) {
    fetcher.submit(FetchJob{server().url("/img/b" + std::to_string(i) + ".png?latency=50"), "", "", nullptr},
                   collector.callback(i));
  }
  ASSERT_TRUE(collector.wait_for(100, 30s));
  // Read first: each stats request opens a connection of its own, counted here as the +1.
  EXPECT_LE(server().stat("connections_accepted"), 16 + 1);
  EXPECT_EQ(server().stat("max_in_flight"), 16);
}

TEST_F(FixtureServerTest, AbortAllWithAThousandInFlight) {
  constexpr std::size_t jobs = 1000;
  auto policy = loopback_policy();
  policy.max_in_flight = jobs;
  HttpFetcher fetcher(policy);
  std::vector<std::atomic<int>> calls(jobs);
  std::atomic<std::size_t> aborted{0};
  for (std::size_t i = 0; i < jobs; ++i) {
    fetcher.submit(FetchJob{server().url("/img/a" + std::to_string(i) + ".jpg?latency=60000"), "", "", nullptr},
                   [&, i](FetchResult&& r) {
                     calls[i].fetch_add(1);
                     if (r.status == Status::aborted) aborted.fetch_add(1);
                   });
  }
  const auto deadline = Clock::now() + 30s;
  while (server().stat("in_flight") < static_cast<long>(jobs) && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(server().stat("in_flight"), static_cast<long>(jobs));
  const auto start = Clock::now();
  fetcher.abort_all();
  const long took = elapsed_ms(start);
  std::cout << "abort_all with " << jobs << " transfers in flight on the fixture server: " << took << " ms\n";
  EXPECT_LT(took, 5000);
  EXPECT_EQ(aborted.load(), jobs);
  for (std::size_t i = 0; i < jobs; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
}

// Not a pass/fail test: prints wall time against the ideal N * latency / C for a sweep of C.
// SLUICE_SWEEP_URLS (10000), SLUICE_SWEEP_C (one C instead of the sweep), SLUICE_SWEEP_IO_THREADS (1).
TEST_F(FixtureServerTest, DISABLED_ThroughputSweep) {
  auto env_number = [](const char* name, std::size_t fallback) {
    const char* value = std::getenv(name);
    return value != nullptr ? static_cast<std::size_t>(std::stoul(value)) : fallback;
  };
  const std::size_t urls = env_number("SLUICE_SWEEP_URLS", 10000);
  const std::size_t io_threads = env_number("SLUICE_SWEEP_IO_THREADS", 1);
  std::vector<std::size_t> concurrency = {16, 64, 256, 1024};
  if (const char* only = std::getenv("SLUICE_SWEEP_C")) concurrency = {static_cast<std::size_t>(std::stoul(only))};
  const long latency = 200;
  std::printf("io_threads=%zu\n", io_threads);
  std::printf("%8s %8s %9s %9s %10s %11s %9s\n", "C", "urls", "ideal_s", "wall_s", "efficiency", "client_cpu_s",
              "srv_max");
  for (std::size_t c : concurrency) {
    server().reset_stats();
    auto policy = loopback_policy();
    policy.max_in_flight = c;
    policy.transfer_timeout_ms = 60000;
    policy.io_threads = io_threads;
    HttpFetcher fetcher(policy);
    std::atomic<std::size_t> done{0};
    std::atomic<std::size_t> ok{0};
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto start = Clock::now();
    const std::string tag = unique_key();
    for (std::size_t i = 0; i < urls; ++i) {
      fetcher.submit(FetchJob{server().url("/img/sweep-" + tag + "-" + std::to_string(i) +
                                           ".jpg?size=20000&latency=" + std::to_string(latency)),
                              "", "", nullptr},
                     [&](FetchResult&& r) {
                       if (r.status == Status::ok) ok.fetch_add(1);
                       done.fetch_add(1);
                     });
    }
    while (done.load() < urls) std::this_thread::sleep_for(5ms);
    const double wall = static_cast<double>(elapsed_ms(start)) / 1000.0;
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    const double cpu = static_cast<double>((after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                                           (after.ru_stime.tv_sec - before.ru_stime.tv_sec)) +
                       static_cast<double>((after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
                                           (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) /
                           1e6;
    const double ideal = static_cast<double>(urls) * latency / 1000.0 / static_cast<double>(c);
    std::printf("%8zu %8zu %9.2f %9.2f %10.2f %11.2f %9ld\n", c, urls, ideal, wall, ideal / wall, cpu,
                server().stat("max_in_flight"));
    std::fflush(stdout);
    EXPECT_EQ(ok.load(), urls);
  }
}

}  // namespace
}  // namespace sluice
