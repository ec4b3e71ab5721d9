// Whole runs with http_fetch against the fixture image server: every fault ends in a known outcome.
#include <gtest/gtest.h>

#include <random>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/run_summary.hpp"
#include "support/fixture_server.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

using test::FixtureServer;

class HttpGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server().error().empty()) << server().error();
    server().reset_stats();
  }
  static FixtureServer& server() { return FixtureServer::instance(); }

  std::string write_graph(const std::string& fetch_settings, const std::string& sink = "") {
    std::string path = dir_.file("graph" + std::to_string(++files_) + ".yaml");
    test::write_file(
        path,
        "run:\n  batch_size: 50\n  in_flight: 2000\n  threads: 2\nnodes:\n"
        "  - {id: read, type: csv_source}\n  - {id: check, type: validate}\n"
        "  - id: images\n    type: http_fetch\n    image_dir: " +
            dir_.file("images") +
            "\n    timeout: 2s\n    backoff: 20ms\n    max_backoff: 100ms\n"
            "    retry_after_cap: 3s\n    max_bytes: 100000\n" +
            fetch_settings + "  - {id: price, type: price}\n" +
            (sink.empty() ? "  - {id: out, type: ndjson_sink, path: " + dir_.file("out.ndjson") + "}\n" : sink) +
            "edges: [read -> check, check -> images, images -> price, price -> out]\n");
    return path;
  }

  std::string write_supplier(const std::string& on_failure = "reject", const std::string& name = "acme") {
    std::string path = dir_.file(name + ".yaml");
    test::write_file(path, "supplier: " + name +
                               "\ncurrency: EUR\nfields:\n  sku: {column: SKU, required: true}\n"
                               "  title: {column: Name}\n  price: {column: Price, type: decimal, required: true}\n"
                               "  image_url: {column: Image, type: url}\npricing:\n  amount_field: price\n"
                               "images:\n  on_failure: " +
                               on_failure + "\n  allow_networks: [127.0.0.1/32]\n");
    return path;
  }

  // One row per URL; SKUs are S0, S1, ... in order.
  std::string write_feed(const std::vector<std::string>& urls) {
    std::string path = dir_.file("feed" + std::to_string(++files_) + ".csv");
    std::string text = "SKU,Name,Price,Image\n";
    for (std::size_t i = 0; i < urls.size(); ++i) text += "S" + std::to_string(i) + ",Item,1.00," + urls[i] + "\n";
    test::write_file(path, text);
    return path;
  }

  RunOutcome run(const std::string& graph, const std::string& supplier, const std::string& feed,
                 const std::string& db = "", std::vector<std::pair<std::string, std::string>> sets = {}) {
    Diagnostics diags;
    auto p = load_pipeline(PipelineOptions{graph, supplier, sets}, diags);
    EXPECT_TRUE(diags.empty()) << diags.format();
    if (!p->plan) throw std::runtime_error(diags.format());
    RunOptions o;
    o.input = feed;
    o.rejects_path = dir_.file("rejects.ndjson");
    o.db = db;
    pipelines_.push_back(std::move(p));
    RunOutcome out = run_pipeline(*pipelines_.back(), o);
    EXPECT_TRUE(out.flow.identity_holds()) << format_summary(out, *pipelines_.back());
    return out;
  }

  std::string rejects() { return test::read_file(dir_.file("rejects.ndjson")); }
  std::vector<std::string> output() { return test::read_lines(dir_.file("out.ndjson")); }

  std::string img(const std::string& name, const std::string& query = "") {
    return server().url("/img/" + name + (query.empty() ? "" : "?" + query));
  }

  test::TempDir dir_;
  int files_ = 0;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
};

TEST_F(HttpGraphTest, GoodImagesAreStoredAndDescribed) {
  RunOutcome o = run(write_graph(""), write_supplier(),
                     write_feed({img("a.jpg", "w=120&h=80"), img("b.png"), img("c.gif"), img("d.webp")}));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  auto out = output();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_NE(out[0].find("\"image_mime\":\"image/jpeg\",\"image_width\":120,\"image_height\":80"), std::string::npos)
      << out[0];
  EXPECT_NE(out[1].find("\"image_mime\":\"image/png\""), std::string::npos) << out[1];
  auto at = out[0].find("\"image_path\":\"") + 14;
  std::string path = out[0].substr(at, out[0].find('"', at) - at);
  EXPECT_TRUE(std::filesystem::exists(path)) << path;
  EXPECT_NE(path.find("/images/"), std::string::npos);
}

TEST_F(HttpGraphTest, AnUnwritableImageStoreFailsTheRunInsteadOfRejectingEveryRow) {
  // Root may write anywhere, so permissions cannot make the store fail; a regular file where the
  // image folder should be fails for everyone (ENOTDIR on the first image).
  test::write_file(dir_.file("images"), "not a folder\n");
  std::vector<std::string> urls;
  for (int i = 0; i < 200; ++i) urls.push_back(img("s" + std::to_string(i) + ".jpg"));
  RunOutcome o = run(write_graph(""), write_supplier(), write_feed(urls));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("node 'images': image store: cannot create folder"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("Not a directory"), std::string::npos) << o.error;
  EXPECT_EQ(o.flow.rejected, 0u);  // not one row blamed on its image
  EXPECT_GT(o.flow.not_processed, 0u);
  // A failed run replaces no output: nothing is reported written and no output file appears.
  EXPECT_EQ(o.flow.sink.written, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.ndjson")));
}

TEST_F(HttpGraphTest, TruncatedAndGluedImagesAreRejectedNotStored) {
  RunOutcome o = run(write_graph("    max_attempts: 2\n"), write_supplier(),
                     write_feed({img("cut.jpg", "size=4000&cut=2000"), img("glued.jpg", "magic_then_html=1"),
                                 img("whole.png", "size=9000")}));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  const std::string r = rejects();
  EXPECT_NE(r.find("truncated JPEG: no end-of-image marker"), std::string::npos) << r;
  EXPECT_NE(r.find("corrupt JPEG: invalid marker 0x3C at byte 3"), std::string::npos) << r;
  EXPECT_EQ(output().size(), 1u);
}

TEST_F(HttpGraphTest, EveryFaultEndsImportedAfterRetriesOrRejectedWithItsReason) {
  struct Case {
    std::string url;
    const char* expect;  // nullptr: imported
  };
  std::vector<Case> cases{
      {img("retry503.jpg", "fail_first=2&key=k503"), nullptr},
      {img("retry429.jpg", "fail_first=1&key=k429&status=429&retry_after=1"), nullptr},
      {img("retrydate.jpg", "fail_first=1&key=kdate&status=503&retry_after_date=1"), nullptr},
      {img("moved.jpg", "redirect=/img/target.jpg"), nullptr},
      {img("gone.jpg", "status=404"), "HTTP 404"},
      {img("always500.jpg", "status=500"), "HTTP 500"},
      {img("reset.jpg", "reset_after=100&size=5000"), "reset.jpg"},
      {img("slow.jpg", "trickle=200&size=5000"), "timeout after 2000 ms"},
      {img("huge.jpg", "chunked=1&endless=1"), "endless=1"},
      {img("html.jpg", "content_type=text/html"), "text/html"},
      {img("fake.jpg", "not_image=1"), "not_image=1"},
      {img("tofile.jpg", "redirect=file:///etc/passwd"), "file:///etc/passwd"},
      {img("tometa.jpg", "redirect=http://169.254.169.254/latest/meta-data/"), "169.254.169.254"},
  };
  std::vector<std::string> urls;
  for (const auto& c : cases) urls.push_back(c.url);
  RunOutcome o = run(write_graph("    max_attempts: 3\n"), write_supplier(), write_feed(urls));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  std::string r = rejects();
  std::size_t expected_rejects = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string line_tag = "\"line\":" + std::to_string(i + 2) + ",\"node\":\"images\",\"code\":\"image\"";
    if (cases[i].expect) {
      ++expected_rejects;
      auto at = r.find(line_tag);
      ASSERT_NE(at, std::string::npos) << cases[i].url << "\n" << r;
      std::string reject = r.substr(at, r.find('\n', at) - at);
      EXPECT_NE(reject.find(cases[i].expect), std::string::npos) << reject;
    } else {
      EXPECT_EQ(r.find(line_tag), std::string::npos) << cases[i].url << " should have been imported\n" << r;
    }
  }
  EXPECT_EQ(o.flow.rejected, expected_rejects);
  EXPECT_EQ(o.flow.sink.written, cases.size() - expected_rejects);
  // Reasons a person can act on.
  EXPECT_NE(r.find("timeout"), std::string::npos) << r;
  EXPECT_NE(r.find("exceeds"), std::string::npos) << r;
  EXPECT_NE(r.find("not an image"), std::string::npos) << r;
  EXPECT_NE(r.find("blocked address 169.254.169.254"), std::string::npos) << r;
  EXPECT_GT(o.flow.nodes[2].retries, 0u);
}

TEST_F(HttpGraphTest, PrivateAndLocalTargetsAreRefusedWithoutAConnection) {
  std::vector<std::string> urls{"http://127.0.0.2:" + std::to_string(server().port()) + "/img/a.jpg",
                                "http://10.0.0.1/img/a.jpg",
                                "http://169.254.169.254/latest/meta-data/",
                                "http://[::1]:" + std::to_string(server().port()) + "/img/a.jpg",
                                img("hop.jpg", "redirect=http://10.0.0.1/x.jpg"),
                                "http://localhost:" + std::to_string(server().port()) + "/img/a.jpg"};
  RunOutcome o = run(write_graph(""), write_supplier(), write_feed(urls));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  std::string r = rejects();
  EXPECT_EQ(o.flow.rejected, urls.size() - 1) << r;  // localhost resolves to the allowed 127.0.0.1 too
  for (const char* blocked : {"blocked address 127.0.0.2", "blocked address 10.0.0.1",
                              "blocked address 169.254.169.254", "blocked address ::1"})
    EXPECT_NE(r.find(blocked), std::string::npos) << blocked << "\n" << r;
  // Only the allowed hop and localhost reached the server.
  EXPECT_EQ(server().stat("requests"), 2);
}

TEST_F(HttpGraphTest, FileUrlsAreRejectedByValidationBeforeAnyDownload) {
  RunOutcome o = run(write_graph(""), write_supplier(), write_feed({"file:///etc/passwd"}));
  ASSERT_EQ(o.code, ExitCode::success);
  EXPECT_NE(rejects().find("\"code\":\"url\""), std::string::npos) << rejects();
}

TEST_F(HttpGraphTest, KeepPolicyKeepsTheRowWithTheReason) {
  RunOutcome o = run(write_graph(""), write_supplier("keep"), write_feed({img("gone.jpg", "status=404")}));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  auto out = output();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("\"image_error\":\"HTTP 404"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("\"image_sha256\":null"), std::string::npos) << out[0];
}

TEST_F(HttpGraphTest, ARerunSendsConditionalRequestsOnlyAndDownloadsNoBodies) {
  std::vector<std::string> urls;
  for (int i = 0; i < 40; ++i) urls.push_back(img("p" + std::to_string(i) + ".jpg"));
  urls.push_back(img("p0.jpg"));  // the same URL twice in one run is fetched once
  std::string graph = write_graph(""), supplier = write_supplier(), feed = write_feed(urls);
  RunOutcome first = run(graph, supplier, feed);
  ASSERT_EQ(first.code, ExitCode::success) << first.error;
  EXPECT_EQ(server().stat("bodies_sent"), 40);
  server().reset_stats();
  RunOutcome second = run(graph, supplier, feed);
  ASSERT_EQ(second.code, ExitCode::success) << second.error;
  EXPECT_EQ(second.flow.sink.written, 41u);
  EXPECT_EQ(server().stat("bodies_sent"), 0);
  EXPECT_EQ(server().stat("conditional_requests"), 40);
  EXPECT_EQ(server().stat("responses_304"), 40);
  auto out = output();
  EXPECT_NE(out[0].find("\"image_sha256\":\""), std::string::npos) << out[0];
}

TEST_F(HttpGraphTest, AUrlIsFetchedOnceEvenWhenItsNextRowComesWhileItsImageIsBeingStored) {
  // Each image is named by two rows in a row. One-row batches start as others finish, so the second
  // row is often submitted while the first one's transfer is just finishing or its image is being written.
  std::vector<std::string> urls;
  for (int i = 0; i < 1000; ++i) urls.push_back(img("pair" + std::to_string(i / 2) + ".jpg"));
  RunOutcome o = run(write_graph(""), write_supplier(), write_feed(urls), "",
                     {{"run.batch_size", "1"}, {"run.in_flight", "2"}});
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.sink.written, 1000u);
  EXPECT_EQ(server().stat("bodies_sent"), 500);
  auto out = output();
  ASSERT_EQ(out.size(), 1000u);
  for (const auto& line : out) EXPECT_NE(line.find("\"image_sha256\":\""), std::string::npos) << line;
}

TEST_F(HttpGraphTest, FiveHundredTransfersAreInFlightAtOnceOnTwoThreads) {
  std::vector<std::string> urls;
  for (int i = 0; i < 500; ++i) urls.push_back(img("c" + std::to_string(i) + ".jpg", "latency=500"));
  RunOutcome o = run(write_graph("    max_in_flight: 1000\n"), write_supplier(), write_feed(urls));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.threads, 2);
  EXPECT_EQ(o.flow.sink.written, 500u);
  EXPECT_GE(server().stat("max_in_flight"), 500);
}

TEST_F(HttpGraphTest, ADeadlineDuringSlowDownloadsCommitsWhatFinishedAndARerunCompletesIt) {
  const char* pg = SLUICE_TEST_PG_DIR;  // the cluster the CTest fixture "pg" runs
  std::string server_db = "host=" + std::string(pg) + " port=54329 dbname=sluice user=sluice";
  std::mt19937_64 rng(std::random_device{}());
  std::string name = "h_" + std::to_string(rng() % 1000000000);
  auto admin = connect(server_db);
  pqxx::nontransaction(*admin).exec0("CREATE DATABASE " + name);
  std::string db = "host=" + std::string(pg) + " port=54329 dbname=" + name + " user=sluice";
  migrate(*connect(db));

  // 100 fast images, then 1,000 that take 5 s each: the deadline falls while those are in flight.
  std::vector<std::string> urls;
  for (int i = 0; i < 100; ++i) urls.push_back(img("f" + std::to_string(i) + ".jpg"));
  for (int i = 0; i < 1000; ++i) urls.push_back(img("s" + std::to_string(i) + ".jpg", "latency=5000"));
  std::string feed = write_feed(urls);
  std::string graph = write_graph("    max_in_flight: 1000\n", "  - {id: out, type: pg_sink}\n");
  std::string supplier = write_supplier();
  auto t0 = std::chrono::steady_clock::now();
  RunOutcome cut = run(graph, supplier, feed, db, {{"run.deadline", "2s"}, {"nodes.images.timeout", "20s"}});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(cut.code, ExitCode::deadline) << cut.error;
  EXPECT_LT(secs, 4.5);  // a watchdog against a hang, not a timing claim: the slow images take 5 s
  EXPECT_GT(cut.flow.not_processed, 0u);
  std::uint64_t committed = cut.flow.sink.inserted;
  {
    auto c = connect(db);
    pqxx::read_transaction t(*c);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM product")[0].as<std::uint64_t>(), committed);
  }

  RunOutcome rest = run(graph, supplier, feed, db, {{"nodes.images.timeout", "20s"}});
  ASSERT_EQ(rest.code, ExitCode::success) << rest.error;
  EXPECT_EQ(rest.flow.sink.unchanged, committed);
  EXPECT_EQ(rest.flow.sink.inserted, 1100u - committed);
  {
    auto c = connect(db);
    pqxx::read_transaction t(*c);
    auto counts = t.exec1("SELECT count(*), count(DISTINCT sku) FROM product");
    EXPECT_EQ(counts[0].as<int>(), 1100);
    EXPECT_EQ(counts[1].as<int>(), 1100);
    // With a database, the images' validators are kept in it rather than in a file.
    EXPECT_EQ(t.exec1("SELECT count(*) FROM image_cache")[0].as<int>(), 1100);
    EXPECT_FALSE(std::filesystem::exists(dir_.file("images") + "/index.tsv"));
  }
  pipelines_.clear();
  auto c = connect(server_db);
  pqxx::nontransaction n(*c);
  n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
  n.exec0("DROP DATABASE " + name);
}

}  // namespace
}  // namespace sluice
