// Whole runs of the URL health graph (url_list -> http_check -> a sink) against the fixture image
// server, a local TLS server with a self-signed certificate, and PostgreSQL for the history: every
// outcome class, the per-host rate, fail_on, and what went down and came back between two runs.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "clients/url_probe.hpp"
#include "nodes/url_health.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/run_summary.hpp"
#include "support/fixture_server.hpp"
#include "support/test_support.hpp"

#ifndef SLUICE_TEST_PG_DIR
#define SLUICE_TEST_PG_DIR ""
#endif

namespace sluice {
namespace {

using test::FixtureServer;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A query parameter's value that may itself hold a URL with a query: nested redirects stay intact
// only when each level is escaped once more than the one it carries.
std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return address;
}

// A port on 127.0.0.1 that nothing listens on: the kernel picks a free one, and it is released
// again at once. Another process could take it in between, which is unlikely enough for a test.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot find a free port: " + error);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback(port);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// The full path of an executable on PATH, or "" when there is none.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string full = dir + "/" + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

// A helper program the test starts; stopped when it goes out of scope, so a failed assertion
// leaves no server behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  // Starts args[0] (a full path) with no input and its output appended to `log`.
  void start(std::vector<std::string> args, const std::string& log) {
    stop();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
  }

  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

  // The exit code once the program ends within `limit`; -1 if it was killed or had to be.
  int finish(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (pid_ > 0) {
      stop();
      return -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

// The PostgreSQL cluster's folder: the environment (as pg_fixture.hpp reads it) or the build's setting.
std::string test_pg_dir() {
  const char* env = std::getenv("SLUICE_TEST_PG_DIR");
  if (env != nullptr && *env != '\0') return env;
  return SLUICE_TEST_PG_DIR;
}

// A fresh migrated database on the test cluster, dropped when the test ends however it ends.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(const std::string& dir) : server_("host=" + dir + " port=54329 dbname=sluice user=sluice") {
    std::mt19937_64 rng(std::random_device{}());
    name_ = "uc_" + std::to_string(rng() % 1000000000);
    conninfo_ = "host=" + dir + " port=54329 dbname=" + name_ + " user=sluice";
    pqxx::nontransaction(*connect(server_)).exec0("CREATE DATABASE " + name_);
    try {
      migrate(*connect(conninfo_));
    } catch (...) {
      drop();
      throw;
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ~ScratchDatabase() {
    try {
      drop();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot drop test database " << name_ << ": " << e.what();
    }
  }
  const std::string& conninfo() const { return conninfo_; }

 private:
  void drop() {
    auto c = connect(server_);
    pqxx::nontransaction n(*c);
    n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ + "'");
    n.exec0("DROP DATABASE IF EXISTS " + name_);
  }

  std::string server_, name_, conninfo_;
};

// One line of the NDJSON output: the fields these tests look at, and the line for messages.
struct CheckLine {
  std::string text;
  std::string url;
  std::int64_t occurrences = 0;
  std::string outcome;
  std::optional<std::int64_t> status;
  std::optional<std::string> final_url;
  std::vector<std::pair<std::string, std::int64_t>> redirects;  // url, status
  std::optional<std::int64_t> content_length;
  std::optional<std::string> method;
  std::int64_t attempts = -1;
  std::optional<std::string> error;
};

// The field `key`, or nothing (and a failure) when the line lacks it.
std::optional<simdjson::dom::element> member(simdjson::dom::element doc, const char* key, const std::string& line) {
  simdjson::dom::element value;
  if (doc[key].get(value) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no field " << key << " in " << line;
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> text_or_null(simdjson::dom::element doc, const char* key, const std::string& line) {
  const auto value = member(doc, key, line);
  if (!value || value->is_null()) return std::nullopt;
  std::string_view text;
  if (value->get(text) != simdjson::SUCCESS) {
    ADD_FAILURE() << key << " is neither text nor null in " << line;
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::int64_t> integer_or_null(simdjson::dom::element doc, const char* key, const std::string& line) {
  const auto value = member(doc, key, line);
  if (!value || value->is_null()) return std::nullopt;
  std::int64_t n = 0;
  if (value->get(n) != simdjson::SUCCESS) {
    ADD_FAILURE() << key << " is neither an integer nor null in " << line;
    return std::nullopt;
  }
  return n;
}

CheckLine parse_check_line(const std::string& line) {
  CheckLine c;
  c.text = line;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << line;
    return c;
  }
  c.url = text_or_null(doc, "url", line).value_or("");
  c.occurrences = integer_or_null(doc, "occurrences", line).value_or(-1);
  c.outcome = text_or_null(doc, "check_outcome", line).value_or("");
  c.status = integer_or_null(doc, "check_status", line);
  c.final_url = text_or_null(doc, "check_final_url", line);
  simdjson::dom::array hops;
  const auto redirects = member(doc, "check_redirects", line);
  if (redirects && redirects->get(hops) != simdjson::SUCCESS) {
    ADD_FAILURE() << "check_redirects is not an array in " << line;
  } else if (redirects) {
    for (simdjson::dom::element hop : hops) {
      std::string_view url;
      std::int64_t status = 0;
      if (hop["url"].get(url) != simdjson::SUCCESS || hop["status"].get(status) != simdjson::SUCCESS)
        ADD_FAILURE() << "a redirect without url and status in " << line;
      c.redirects.emplace_back(std::string(url), status);
    }
  }
  c.content_length = integer_or_null(doc, "check_content_length", line);
  c.method = text_or_null(doc, "check_method", line);
  c.attempts = integer_or_null(doc, "check_attempts", line).value_or(-1);
  c.error = text_or_null(doc, "check_error", line);
  return c;
}

using Hops = std::vector<std::pair<std::string, std::int64_t>>;

class UrlCheckGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server().error().empty()) << server().error();
    server().reset_stats();  // also the fail_first counters
  }
  static FixtureServer& server() { return FixtureServer::instance(); }

  // url_list -> http_check -> sink. `check` adds settings to the check node (YAML lines indented by
  // four spaces); `sink` replaces the NDJSON sink (a YAML list entry whose id is out).
  std::string write_graph(const std::string& check, const std::string& sink = "") {
    std::string path = dir_.file("graph" + std::to_string(++files_) + ".yaml");
    test::write_file(
        path,
        "run:\n  batch_size: 50\n  in_flight: 2000\n  threads: 2\nnodes:\n"
        "  - {id: read, type: url_list}\n"
        "  - id: check\n    type: http_check\n    allow_networks: [127.0.0.1/32]\n"
        "    backoff: 20ms\n    max_backoff: 100ms\n    retry_after_cap: 3s\n" +
            check +
            (sink.empty() ? "  - {id: out, type: ndjson_sink, path: " + dir_.file("out.ndjson") + "}\n" : sink) +
            "edges: [read -> check, check -> out]\n");
    return path;
  }

  std::string write_urls(const std::vector<std::string>& urls) {
    std::string path = dir_.file("urls" + std::to_string(++files_) + ".txt");
    std::string text;
    for (const auto& url : urls) text += url + "\n";
    test::write_file(path, text);
    return path;
  }

  // A run without a supplier file, as `sluice run GRAPH --input URLS` does it.
  RunOutcome run(const std::string& graph, const std::string& input, const std::string& db = "") {
    Diagnostics diags;
    auto p = load_pipeline(PipelineOptions{graph, "", {}}, diags);
    EXPECT_TRUE(diags.empty()) << diags.format();
    if (!p->plan) throw std::runtime_error(diags.format());
    RunOptions o;
    o.input = input;
    o.rejects_path = dir_.file("rejects.ndjson");
    o.db = db;
    pipelines_.push_back(std::move(p));
    RunOutcome out = run_pipeline(*pipelines_.back(), o);
    EXPECT_TRUE(out.flow.identity_holds()) << format_summary(out, *pipelines_.back());
    return out;
  }

  // The NDJSON output by URL; a URL written twice fails the test.
  std::map<std::string, CheckLine> output() {
    std::map<std::string, CheckLine> out;
    for (const auto& line : test::read_lines(dir_.file("out.ndjson"))) {
      if (line.empty()) continue;
      CheckLine c = parse_check_line(line);
      const std::string url = c.url;
      EXPECT_TRUE(out.emplace(url, std::move(c)).second) << "written twice: " << url;
    }
    return out;
  }

  std::string img(const std::string& name, const std::string& query = "") {
    return server().url("/img/" + name + (query.empty() ? "" : "?" + query));
  }

  // Every class of the report at zero, but those given.
  static std::map<std::string, std::uint64_t> outcomes(const std::map<std::string, std::uint64_t>& nonzero) {
    std::map<std::string, std::uint64_t> all;
    for (CheckOutcome o : all_check_outcomes) all[std::string(to_string(o))] = 0;
    for (const auto& [name, n] : nonzero) all.at(name) = n;
    return all;
  }

  test::TempDir dir_;
  int files_ = 0;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
};

TEST_F(UrlCheckGraphTest, EveryOutcomeClassInOneRun) {
  const std::string good = img("good.jpg", "size=3000");
  const std::string head405 = img("head405.jpg", "head=405&size=4001");
  const std::string head501 = img("head501.jpg", "head=501&size=4002");
  const std::string head_hang = img("headhang.jpg", "head=hang&size=4003");
  const std::string missing = img("missing.jpg", "status=404");
  const std::string broken = img("broken.jpg", "status=500");
  const std::string end = img("end.png");
  const std::string hop2 = img("hop2.jpg", "redirect=" + percent_encode(end));
  const std::string hop1 = img("hop1.jpg", "redirect=" + percent_encode(hop2));
  const std::string to_private = img("private.jpg", "redirect=" + percent_encode("http://10.1.2.3/x.png"));
  const std::string refused = "http://127.0.0.1:" + std::to_string(unused_port()) + "/x.png";
  const std::string ftp = "ftp://x/y";
  const std::string garbage = "not a url";
  const std::string flaky = img("flaky.jpg", "status=503&retry_after=1&fail_first=1&key=every-class-flaky");
  const std::string repeated = img("repeated.jpg");
  const std::string slow = img("slow.jpg", "latency=3000");
  const std::vector<std::string> list{good,   repeated, head405,  head501,    head_hang,    missing,
                                      broken, hop1,     repeated, to_private, refused,
                                      ftp,    garbage,  flaky,    slow,       repeated};

  const auto started = Clock::now();
  RunOutcome o = run(write_graph("    timeout: 1s\n"), write_urls(list));
  // A watchdog against a hang, not a timing claim: the slowest URL spends two 1 s attempts.
  EXPECT_LT(seconds_since(started), 30.0);
  ASSERT_EQ(o.code, ExitCode::success) << o.error;  // no fail_on: failing classes do not fail the run
  EXPECT_TRUE(o.flow.identity_holds());
  EXPECT_EQ(o.flow.read, 16u);
  EXPECT_EQ(o.flow.skipped, 2u);  // the two repeats of `repeated`
  EXPECT_EQ(o.flow.sink.written, 14u);
  EXPECT_EQ(o.flow.rejected, 0u);
  EXPECT_FALSE(o.flow.health.known);  // an NDJSON sink keeps no history
  ASSERT_TRUE(o.flow.checks.has_value());
  EXPECT_EQ(o.flow.checks->checked, 14u);
  // Attempts: one per URL that reached libcurl, plus the GETs after a refused or unanswered HEAD
  // (3 + the slow one) and the 503's retry; a redirect chain is one attempt. 10 + 4 + 1 + ... = 17.
  EXPECT_EQ(o.flow.checks->attempts, 17u);
  EXPECT_EQ(o.flow.checks->outcomes, outcomes({{"up", 6},
                                               {"redirected", 1},
                                               {"client_error", 1},
                                               {"server_error", 1},
                                               {"timeout", 1},
                                               {"connection_refused", 1},
                                               {"blocked", 1},
                                               {"invalid_url", 2}}));

  // What reached the server. HEAD: good, the three HEAD refusals, 404, 500, the three responses of
  // the redirect chain, the first hop towards 10.1.2.3, the 503 and its retry, the repeated URL
  // once, and the slow one: 14. The ranged GETs after HEAD was refused or hung, and after the slow
  // HEAD timed out: 4 more.
  EXPECT_EQ(server().stat("head_requests"), 14);
  EXPECT_EQ(server().stat("requests"), 18);

  auto out = output();
  EXPECT_EQ(out.size(), 14u);
  for (const auto& url : list) ASSERT_EQ(out.count(url), 1u) << url << " is missing from the output";

  {
    const CheckLine& c = out.at(good);
    EXPECT_EQ(c.outcome, "up") << c.text;
    EXPECT_EQ(c.status, 200) << c.text;
    EXPECT_EQ(c.method, "HEAD") << c.text;
    EXPECT_EQ(c.content_length, 3000) << c.text;
    EXPECT_EQ(c.final_url, good) << c.text;
    EXPECT_TRUE(c.redirects.empty()) << c.text;
    EXPECT_EQ(c.attempts, 1) << c.text;
    EXPECT_EQ(c.error, std::nullopt) << c.text;
  }
  // Refused or unanswered HEAD: up through a one-byte GET, and the size is the whole resource's
  // (from Content-Range), not the one byte sent.
  for (const auto& [url, size] :
       std::vector<std::pair<std::string, std::int64_t>>{{head405, 4001}, {head501, 4002}, {head_hang, 4003}}) {
    const CheckLine& c = out.at(url);
    EXPECT_EQ(c.outcome, "up") << c.text;
    EXPECT_EQ(c.status, 206) << c.text;
    EXPECT_EQ(c.method, "GET") << c.text;
    EXPECT_EQ(c.attempts, 2) << c.text;  // the HEAD, then the GET
    EXPECT_EQ(c.content_length, size) << c.text;
    EXPECT_EQ(c.error, std::nullopt) << c.text;
  }
  {
    const CheckLine& c = out.at(missing);
    EXPECT_EQ(c.outcome, "client_error") << c.text;
    EXPECT_EQ(c.status, 404) << c.text;
    EXPECT_EQ(c.error, "HTTP 404") << c.text;
  }
  {
    const CheckLine& c = out.at(broken);
    EXPECT_EQ(c.outcome, "server_error") << c.text;
    EXPECT_EQ(c.status, 500) << c.text;
    EXPECT_EQ(c.attempts, 1) << c.text;  // only 503 (and 429) are asked again
  }
  {
    const CheckLine& c = out.at(hop1);
    EXPECT_EQ(c.outcome, "redirected") << c.text;
    EXPECT_EQ(c.status, 200) << c.text;
    EXPECT_EQ(c.redirects, (Hops{{hop1, 302}, {hop2, 302}})) << c.text;
    EXPECT_EQ(c.final_url, end) << c.text;
  }
  {
    const CheckLine& c = out.at(to_private);
    EXPECT_EQ(c.outcome, "blocked") << c.text;
    EXPECT_NE(c.error.value_or("").find("10.1.2.3"), std::string::npos) << c.text;
    EXPECT_EQ(c.redirects, (Hops{{to_private, 302}})) << c.text;
  }
  {
    const CheckLine& c = out.at(refused);
    EXPECT_EQ(c.outcome, "connection_refused") << c.text;
    EXPECT_EQ(c.status, std::nullopt) << c.text;
  }
  for (const auto& url : {ftp, garbage}) {
    const CheckLine& c = out.at(url);
    EXPECT_EQ(c.outcome, "invalid_url") << c.text;
    EXPECT_EQ(c.attempts, 0) << c.text;  // refused before any request
    EXPECT_EQ(c.method, std::nullopt) << c.text;
    EXPECT_EQ(c.status, std::nullopt) << c.text;
    EXPECT_FALSE(c.error.value_or("").empty()) << c.text;
  }
  EXPECT_NE(out.at(ftp).error.value_or("").find("ftp"), std::string::npos) << out.at(ftp).text;
  {
    const CheckLine& c = out.at(flaky);
    EXPECT_EQ(c.outcome, "up") << c.text;
    EXPECT_EQ(c.status, 200) << c.text;
    EXPECT_EQ(c.attempts, 2) << c.text;
  }
  {
    const CheckLine& c = out.at(repeated);
    EXPECT_EQ(c.outcome, "up") << c.text;
    EXPECT_EQ(c.occurrences, 3) << c.text;
  }
  {
    const CheckLine& c = out.at(slow);
    EXPECT_EQ(c.outcome, "timeout") << c.text;
    EXPECT_EQ(c.status, std::nullopt) << c.text;
    EXPECT_NE(c.error.value_or("").find("1000 ms"), std::string::npos) << c.text;
  }
}

// On its own run with generous time limits: a machine whose resolver is slow or unreachable still
// ends in dns_error rather than a timeout.
TEST_F(UrlCheckGraphTest, ANameThatDoesNotResolveIsADnsError) {
  const std::string unresolvable = "http://nonexistent.invalid/x.png";  // .invalid never resolves (RFC 6761)
  RunOutcome o = run(write_graph("    timeout: 60s\n    connect_timeout: 60s\n"), write_urls({unresolvable}));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  auto out = output();
  ASSERT_EQ(out.count(unresolvable), 1u);
  const CheckLine& c = out.at(unresolvable);
  EXPECT_EQ(c.outcome, "dns_error") << c.text;
  EXPECT_EQ(c.status, std::nullopt) << c.text;
  EXPECT_NE(c.error.value_or("").find("nonexistent.invalid"), std::string::npos) << c.text;
}

TEST_F(UrlCheckGraphTest, ASelfSignedCertificateIsATlsError) {
  const std::string openssl = find_on_path("openssl");
  ASSERT_FALSE(openssl.empty()) << "the openssl command is not on PATH: this test needs it to make a certificate "
                                   "and serve TLS (scripts/setup installs it)";
  const std::string key = dir_.file("k.pem"), cert = dir_.file("c.pem"), log = dir_.file("openssl.log");
  {
    ChildProcess req;
    req.start({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
               "-subj", "/CN=localhost"},
              log);
    ASSERT_EQ(req.finish(std::chrono::seconds(60)), 0) << "openssl req failed:\n" << test::read_file(log);
  }

  // The port is free when picked but may be taken before s_server binds it: then s_server exits
  // and another port is tried.
  ChildProcess tls;
  int port = 0;
  for (int attempt = 0; attempt < 5 && port == 0; ++attempt) {
    const int candidate = unused_port();
    tls.start({openssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(candidate), "-cert", cert, "-key", key,
               "-www", "-quiet"},
              log);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (tls.running() && Clock::now() < deadline) {
      if (accepts_connections(candidate)) {
        port = candidate;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (port == 0) tls.stop();
  }
  ASSERT_NE(port, 0) << "openssl s_server did not start listening:\n" << test::read_file(log);

  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  const auto started = Clock::now();
  RunOutcome o = run(write_graph("    timeout: 5s\n    max_attempts: 1\n"), write_urls({url}));
  EXPECT_LT(seconds_since(started), 30.0);  // a watchdog against a hang
  EXPECT_TRUE(tls.running()) << "the TLS server ended during the run:\n" << test::read_file(log);
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  ASSERT_TRUE(o.flow.checks.has_value());
  EXPECT_EQ(o.flow.checks->outcomes, outcomes({{"tls_error", 1}}));
  auto out = output();
  ASSERT_EQ(out.count(url), 1u);
  const CheckLine& c = out.at(url);
  EXPECT_EQ(c.outcome, "tls_error") << c.text;
  EXPECT_EQ(c.status, std::nullopt) << c.text;
  EXPECT_NE(c.error.value_or("").find("certificate"), std::string::npos) << c.text;
}

TEST_F(UrlCheckGraphTest, PerHostRateSpacesTheRequestsToOneHost) {
  std::vector<std::string> urls;
  for (int i = 0; i < 30; ++i) urls.push_back(img("rate" + std::to_string(i) + ".jpg"));
  const std::string input = write_urls(urls);
  // Thirty at once are allowed, to the host too: only the rate can hold a request back.
  const std::string settings = "    max_in_flight: 30\n    max_per_host: 30\n";

  const auto started = Clock::now();
  RunOutcome limited = run(write_graph(settings + "    per_host_rate: 10\n"), input);
  EXPECT_LT(seconds_since(started), 30.0);  // a watchdog against a hang
  ASSERT_EQ(limited.code, ExitCode::success) << limited.error;
  ASSERT_TRUE(limited.flow.checks.has_value());
  EXPECT_EQ(limited.flow.checks->outcomes.at("up"), 30u);
  EXPECT_EQ(server().stat("requests"), 30);
  // Ten a second: 29 gaps of 100 ms between the first request and the last, 2.9 s, less slack.
  // A rate limit is a floor on the span, so that is the assertion.
  EXPECT_GE(server().stat("request_span_us"), 2'500'000);

  // The same URLs without the limit arrive together: the limit is what spread them out above.
  server().reset_stats();
  RunOutcome unlimited = run(write_graph(settings), input);
  ASSERT_EQ(unlimited.code, ExitCode::success) << unlimited.error;
  EXPECT_EQ(server().stat("requests"), 30);
  EXPECT_LT(server().stat("request_span_us"), 1'000'000);
}

TEST_F(UrlCheckGraphTest, AFailOnClassFailsTheRunAfterEveryResultIsWritten) {
  const std::string good = img("fine.jpg"), broken = img("down.jpg", "status=500"),
                    missing = img("gone.jpg", "status=404");
  const std::string input = write_urls({good, broken, missing});

  RunOutcome failed = run(write_graph("    fail_on: [server_error]\n"), input);
  EXPECT_EQ(failed.code, ExitCode::checks_failed) << failed.error;
  EXPECT_NE(failed.error.find("fail_on"), std::string::npos) << failed.error;
  ASSERT_TRUE(failed.flow.checks.has_value());
  EXPECT_EQ(failed.flow.checks->failing, 1u);
  EXPECT_EQ(failed.flow.sink.written, 3u);
  auto out = output();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.at(good).outcome, "up") << out.at(good).text;
  EXPECT_EQ(out.at(broken).outcome, "server_error") << out.at(broken).text;
  EXPECT_EQ(out.at(missing).outcome, "client_error") << out.at(missing).text;

  // The same URLs when fail_on names only a class none of them is in: the 500 is what failed the
  // run above, not the 404 or the fact of naming fail_on.
  RunOutcome passed = run(write_graph("    fail_on: [timeout]\n"), input);
  EXPECT_EQ(passed.code, ExitCode::success) << passed.error;
  ASSERT_TRUE(passed.flow.checks.has_value());
  EXPECT_EQ(passed.flow.checks->failing, 0u);
  EXPECT_EQ(output().size(), 3u);
}

TEST_F(UrlCheckGraphTest, HistoryReportsTheUrlsThatWentDownAndCameBack) {
  const std::string pg_dir = test_pg_dir();
  ASSERT_FALSE(pg_dir.empty()) << "SLUICE_TEST_PG_DIR is not set: run this test through ctest (fixture pg)";
  ScratchDatabase db(pg_dir);

  // The URL text is what the history keys on, so the same text must fail in one run and answer in
  // the other. fail_first=1 fails the first request carrying its key with the given status (500:
  // not retried); /stats/reset forgets what each key has seen. X fails in run 1 and answers in
  // run 2; Y is primed before run 1 so that it answers then, and fails in run 2 after the reset.
  const std::string x_path = "/img/x.jpg?status=500&fail_first=1&key=history-x";
  const std::string y_path = "/img/y.jpg?status=500&fail_first=1&key=history-y";
  const std::string a = img("a.jpg"), b = img("b.jpg", "status=500"), c = img("c.jpg"), d = img("d.jpg", "status=404"),
                    x = server().url(x_path), y = server().url(y_path);
  const std::string input = write_urls({a, b, c, d, x, y});
  const std::string graph = write_graph("    max_attempts: 1\n", "  - {id: out, type: url_history}\n");

  server().get(y_path);  // spends Y's one failure
  RunOutcome first = run(graph, input, db.conninfo());
  ASSERT_EQ(first.code, ExitCode::success) << first.error;
  ASSERT_TRUE(first.flow.checks.has_value());
  EXPECT_EQ(first.flow.checks->outcomes,
            outcomes({{"up", 3}, {"server_error", 2}, {"client_error", 1}}));  // a, c, y; b, x; d
  EXPECT_TRUE(first.flow.health.known);
  EXPECT_EQ(first.flow.health.first_seen, 6u);
  EXPECT_EQ(first.flow.health.went_down, 0u);
  EXPECT_EQ(first.flow.health.came_back, 0u);

  server().reset_stats();  // Y fails again on its next request
  server().get(x_path);    // spends X's one failure
  RunOutcome second = run(graph, input, db.conninfo());
  ASSERT_EQ(second.code, ExitCode::success) << second.error;
  ASSERT_TRUE(second.flow.checks.has_value());
  EXPECT_EQ(second.flow.checks->outcomes,
            outcomes({{"up", 3}, {"server_error", 2}, {"client_error", 1}}));  // a, c, x; b, y; d
  const HealthChanges& h = second.flow.health;
  EXPECT_TRUE(h.known);
  EXPECT_EQ(h.first_seen, 0u);
  EXPECT_EQ(h.went_down, 1u);
  ASSERT_EQ(h.down.size(), 1u);
  EXPECT_EQ(h.down[0].url, y);
  EXPECT_EQ(h.down[0].before, "up");
  EXPECT_EQ(h.down[0].now, "server_error");
  EXPECT_EQ(h.came_back, 1u);
  ASSERT_EQ(h.back.size(), 1u);
  EXPECT_EQ(h.back[0].url, x);
  EXPECT_EQ(h.back[0].before, "server_error");
  EXPECT_EQ(h.back[0].now, "up");

  const std::string summary = format_summary(second, *pipelines_.back());
  EXPECT_NE(summary.find("since the previous check: 1 went down, 1 came back, 0 checked for the first time\n"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("    down  " + y + "  (up -> server_error)\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("    back  " + x + "  (server_error -> up)\n"), std::string::npos) << summary;
  // Those lines and no others: b stayed down and d stayed a client error, so neither is named.
  int down_lines = 0, back_lines = 0;
  for (std::size_t at = 0; (at = summary.find("\n    ", at)) != std::string::npos; ++at) {
    if (summary.compare(at + 1, 10, "    down  ") == 0) ++down_lines;
    if (summary.compare(at + 1, 10, "    back  ") == 0) ++back_lines;
  }
  EXPECT_EQ(down_lines, 1) << summary;
  EXPECT_EQ(back_lines, 1) << summary;

  // Every check of both runs is in the table, filed under its run.
  ASSERT_GT(first.run_id, 0);
  ASSERT_GT(second.run_id, first.run_id);
  pipelines_.clear();
  auto conn = connect(db.conninfo());
  pqxx::read_transaction t(*conn);
  std::vector<std::pair<std::int64_t, std::int64_t>> per_run;
  for (const auto& row : t.exec("SELECT run_id, count(*) FROM url_check GROUP BY run_id ORDER BY run_id"))
    per_run.emplace_back(row[0].as<std::int64_t>(), row[1].as<std::int64_t>());
  EXPECT_EQ(per_run, (std::vector<std::pair<std::int64_t, std::int64_t>>{{first.run_id, 6}, {second.run_id, 6}}));
  auto history_of = [&](const std::string& url) {
    std::vector<std::string> seen;
    for (const auto& row : t.exec_params("SELECT outcome FROM url_check WHERE url = $1 ORDER BY run_id", url))
      seen.push_back(row[0].as<std::string>());
    return seen;
  };
  EXPECT_EQ(history_of(x), (std::vector<std::string>{"server_error", "up"}));
  EXPECT_EQ(history_of(y), (std::vector<std::string>{"up", "server_error"}));
  EXPECT_EQ(history_of(b), (std::vector<std::string>{"server_error", "server_error"}));
}

}  // namespace
}  // namespace sluice
