// Integration tests: runs the built sluice_fixture_server on a loopback port and talks HTTP over plain sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixture_server/image_bytes.hpp"

extern char** environ;

namespace sluice::fixture {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr auto kStartTimeout = 10s;
constexpr auto kSocketTimeout = 10s;

std::string temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "sluice_fixture_XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// The server binary as a child process. The destructor kills and reaps it whatever happened in
// the test, so a failing assertion never leaves a server running.
class ServerProcess {
 public:
  // Starts the server with --port 0 --port-file and waits until the port file appears.
  explicit ServerProcess(const std::vector<std::string>& extra_args = {}) : dir_(temp_dir()) {
    port_file_ = dir_ + "/port";
    stdout_file_ = dir_ + "/stdout";
    std::vector<std::string> args = {SLUICE_FIXTURE_SERVER, "--port", "0", "--port-file", port_file_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn(args, stdout_file_);
    const auto deadline = SteadyClock::now() + kStartTimeout;
    while (!fs::exists(port_file_)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("server exited before listening, status " + std::to_string(status));
      }
      if (SteadyClock::now() > deadline) throw std::runtime_error("server did not write its port file in time");
      std::this_thread::sleep_for(10ms);
    }
    std::ifstream in(port_file_);
    int port = 0;
    in >> port;
    if (port <= 0 || port > 65535) throw std::runtime_error("bad port file");
    port_ = static_cast<std::uint16_t>(port);
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }

  std::string stdout_text() const {
    std::ifstream in(stdout_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Sends `sig` and waits up to `timeout`; returns the wait status, or nullopt on timeout (the
  // destructor then kills the process).
  std::optional<int> signal_and_wait(int sig, std::chrono::milliseconds timeout) {
    kill(pid_, sig);
    return wait_for(timeout);
  }

  std::optional<int> wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

  static pid_t spawn(const std::vector<std::string>& args, const std::string& stdout_path) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    return pid;
  }

 private:
  std::string dir_;
  std::string port_file_;
  std::string stdout_file_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool complete = false;  // the body ended where its framing said it would
  std::string error;      // why it did not: "eof", "timeout" or strerror text

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
};

// A blocking client socket with receive/send timeouts, so no test can hang.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    timeval tv{static_cast<time_t>(kSocketTimeout.count()), 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      close(fd_);
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void send_get(const std::string& target, const std::vector<std::string>& headers = {},
                const std::string& method = "GET") {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const std::string& h : headers) request += h + "\r\n";
    send_all(request + "\r\n");
  }

  Response read_response(bool head_request = false) {
    Response r;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(r)) return r;
    }
    std::istringstream head(buffer_.substr(0, head_end));
    buffer_.erase(0, head_end + 4);
    std::string line;
    std::getline(head, line);
    if (line.rfind("HTTP/1.1 ", 0) != 0) {
      r.error = "bad status line: " + line;
      return r;
    }
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers[name] = line.substr(v);
    }
    if (head_request || r.status == 204 || r.status == 304) {
      r.complete = true;
      return r;
    }
    if (r.header("transfer-encoding") == "chunked") {
      for (;;) {
        std::size_t eol;
        while ((eol = buffer_.find("\r\n")) == std::string::npos)
          if (!fill(r)) return r;
        const std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
        buffer_.erase(0, eol + 2);
        while (buffer_.size() < size + 2)
          if (!fill(r)) {
            r.body += buffer_.substr(0, std::min(size, buffer_.size()));
            return r;
          }
        r.body += buffer_.substr(0, size);
        buffer_.erase(0, size + 2);
        if (size == 0) {
          r.complete = true;
          return r;
        }
      }
    }
    if (r.has_header("content-length")) {
      const std::size_t length = std::stoul(r.header("content-length"));
      while (buffer_.size() < length)
        if (!fill(r)) {
          r.body = buffer_;
          buffer_.clear();
          return r;
        }
      r.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
      r.complete = true;
      return r;
    }
    while (fill(r)) {
    }
    r.body = buffer_;
    buffer_.clear();
    r.complete = r.error == "eof";
    return r;
  }

  // True when the server closed the connection (EOF or reset) within the socket timeout.
  bool closed_by_peer() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  int fd() const { return fd_; }

 private:
  bool fill(Response& r) {
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      buffer_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0)
      r.error = "eof";
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
      r.error = "timeout";
    else
      r.error = std::strerror(errno);
    return false;
  }

  int fd_ = -1;
  std::string buffer_;
};

Response get(std::uint16_t port, const std::string& target, const std::vector<std::string>& headers = {}) {
  Client client(port);
  client.send_get(target, headers);
  return client.read_response();
}

// Reads one integer field from the /stats JSON.
std::int64_t stat(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) throw std::runtime_error("no " + name + " in " + json);
  return std::stoll(json.substr(at + key.size()));
}

std::string stats(std::uint16_t port) {
  const Response r = get(port, "/stats");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  return r.body;
}

void reset_stats(std::uint16_t port) {
  Client client(port);
  client.send_all("POST /stats/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(client.read_response().status, 200);
}

ImageSpec spec_of(std::string name, ImageFormat format, std::uint32_t w = 64, std::uint32_t h = 48,
                  std::uint64_t size = 2048) {
  ImageSpec spec;
  spec.name = std::move(name);
  spec.format = format;
  spec.width = w;
  spec.height = h;
  spec.size = size;
  return spec;
}

class FixtureServer : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<ServerProcess>(); }
  std::uint16_t port() const { return server_->port(); }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FixtureServer, AnnouncesItsPort) {
  EXPECT_EQ(server_->stdout_text(), "listening on 127.0.0.1:" + std::to_string(port()) + "\n");
}

TEST_F(FixtureServer, ServesDeterministicImagesWithEtag) {
  const Response r = get(port(), "/img/a.jpg");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(r.complete);
  const ImageSpec spec = spec_of("a.jpg", ImageFormat::kJpeg);
  EXPECT_EQ(r.body, ImageBody(spec, false).bytes());
  EXPECT_EQ(r.header("content-type"), "image/jpeg");
  EXPECT_EQ(r.header("content-length"), "2048");
  EXPECT_EQ(r.header("etag"), image_etag(spec));
  EXPECT_EQ(r.header("last-modified"), "Mon, 01 Jan 2024 00:00:00 GMT");

  const Response png = get(port(), "/img/x/y.png?w=640&h=480&size=10000&v=3");
  ASSERT_EQ(png.status, 200);
  ImageSpec png_spec = spec_of("x/y.png", ImageFormat::kPng, 640, 480, 10000);
  png_spec.version = "3";
  EXPECT_EQ(png.body, ImageBody(png_spec, false).bytes());
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(png.header("etag"), image_etag(png_spec));
  EXPECT_NE(png.header("etag"), r.header("etag"));
}

TEST_F(FixtureServer, KeepAliveAndConditionalRequests) {
  reset_stats(port());
  Client client(port());
  client.send_get("/img/c.webp");
  const Response first = client.read_response();
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());

  client.send_get("/img/c.webp", {"If-None-Match: " + etag});
  const Response second = client.read_response();
  EXPECT_EQ(second.status, 304);
  EXPECT_TRUE(second.body.empty());
  EXPECT_EQ(second.header("etag"), etag);

  client.send_get("/img/c.webp", {"If-Modified-Since: Tue, 02 Jan 2024 00:00:00 GMT"});
  EXPECT_EQ(client.read_response().status, 304);
  client.send_get("/img/c.webp", {"If-None-Match: \"stale\""});
  EXPECT_EQ(client.read_response().status, 200);

  const std::string json = stats(port());
  EXPECT_EQ(stat(json, "requests"), 4);
  EXPECT_EQ(stat(json, "responses_304"), 2);
  EXPECT_EQ(stat(json, "responses_2xx"), 2);
  EXPECT_EQ(stat(json, "bodies_sent"), 2);
  EXPECT_EQ(stat(json, "conditional_requests"), 3);
  EXPECT_EQ(stat(json, "connections_accepted"), 2) << "all four on one connection, plus the stats request";
}

TEST_F(FixtureServer, FailFirstThenSucceeds) {
  reset_stats(port());
  const std::string target = "/img/f.jpg?fail_first=2&key=item-17&retry_after=1";
  for (int i = 0; i < 2; ++i) {
    const Response r = get(port(), target);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("retry-after"), "1");
  }
  EXPECT_EQ(get(port(), target).status, 200);
  EXPECT_EQ(get(port(), target).status, 200);
  EXPECT_EQ(get(port(), "/img/f.jpg?fail_first=1&key=other&status=429").status, 429);
  const std::string json = stats(port());
  EXPECT_EQ(stat(json, "requests"), 5);
  EXPECT_EQ(stat(json, "responses_2xx"), 2);
  reset_stats(port());
  EXPECT_EQ(get(port(), target).status, 503) << "reset forgets the keys";
}

TEST_F(FixtureServer, RedirectsCarryLocation) {
  const Response found = get(port(), "/img/a.jpg?redirect=/img/b.jpg");
  EXPECT_EQ(found.status, 302);
  EXPECT_EQ(found.header("location"), "/img/b.jpg");
  const std::string other = "http://127.0.0.1:" + std::to_string(port()) + "/img/x.jpg";
  const Response moved = get(port(), "/img/a.jpg?redirect_status=301&redirect=" + other);
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.header("location"), other);
  const Response metadata =
      get(port(), "/img/a.jpg?redirect_status=307&redirect=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F");
  EXPECT_EQ(metadata.status, 307);
  EXPECT_EQ(metadata.header("location"), "http://169.254.169.254/latest/meta-data/");
  EXPECT_EQ(get(port(), "/img/a.jpg?redirect=file:///etc/passwd&redirect_status=308").header("location"),
            "file:///etc/passwd");
}

TEST_F(FixtureServer, ChunkedBodies) {
  const Response r = get(port(), "/img/big.gif?chunked=1&size=200000");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.has_header("content-length"));
  EXPECT_EQ(r.body, ImageBody(spec_of("big.gif", ImageFormat::kGif, 64, 48, 200000), false).bytes());

  // An endless body streams until the client leaves; then the request stops being in flight.
  reset_stats(port());
  {
    Client client(port());
    client.send_get("/img/e.jpg?endless=1");
    char buf[65536];
    std::size_t received = 0;
    while (received < 1'000'000) {
      const ssize_t n = recv(client.fd(), buf, sizeof buf, 0);
      ASSERT_GT(n, 0);
      received += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(stat(stats(port()), "in_flight"), 1);
  }
  const auto deadline = SteadyClock::now() + 5s;
  while (stat(stats(port()), "in_flight") != 0 && SteadyClock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(stat(stats(port()), "in_flight"), 0);
}

TEST_F(FixtureServer, ResetAfterCutsTheBody) {
  reset_stats(port());
  for (const std::string chunked : {"0", "1"}) {
    Client client(port());
    client.send_get("/img/r.png?size=100000&reset_after=1000&chunked=" + chunked);
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.body.size(), 1000u) << r.error;
    EXPECT_EQ(r.body, ImageBody(spec_of("r.png", ImageFormat::kPng, 64, 48, 100000), false).bytes().substr(0, 1000));
    if (chunked == "0") {
      EXPECT_EQ(r.header("content-length"), "100000");
      EXPECT_EQ(r.error, std::strerror(ECONNRESET)) << "SO_LINGER 0 closes with RST";
    }
  }
  const std::string json = stats(port());
  EXPECT_EQ(stat(json, "bodies_sent"), 0);
  EXPECT_EQ(stat(json, "in_flight"), 0);
}

TEST_F(FixtureServer, StatsCountRequestsButNotThemselves) {
  reset_stats(port());
  EXPECT_EQ(get(port(), "/img/s1.jpg").status, 200);
  EXPECT_EQ(get(port(), "/img/s2.png").status, 200);
  EXPECT_EQ(get(port(), "/img/s3.gif?status=500").status, 500);
  EXPECT_EQ(get(port(), "/nowhere").status, 404);
  {
    Client client(port());
    client.send_get("/img/s4.jpg", {}, "HEAD");
    const Response head = client.read_response(true);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("content-length"), "2048");
  }
  stats(port());
  const std::string json = stats(port());
  EXPECT_EQ(stat(json, "requests"), 5);
  EXPECT_EQ(stat(json, "responses_2xx"), 3);
  EXPECT_EQ(stat(json, "bodies_sent"), 2);
  EXPECT_EQ(stat(json, "in_flight"), 0);
  EXPECT_EQ(stat(json, "max_in_flight"), 1);
  EXPECT_EQ(stat(json, "connections"), 1) << "the stats request's own connection";
  EXPECT_EQ(stat(json, "conditional_requests"), 0);
}

TEST_F(FixtureServer, LatencyAndTrickleTakeTime) {
  auto timed = [&](const std::string& target) {
    const auto start = SteadyClock::now();
    const Response r = get(port(), target);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);
    return SteadyClock::now() - start;
  };
  EXPECT_GE(timed("/img/l.jpg?latency=300"), 300ms);
  const auto trickled = timed("/img/t.jpg?size=1500&trickle=3000");
  EXPECT_GE(trickled, 450ms);
  EXPECT_LT(trickled, 3s);
}

TEST_F(FixtureServer, ManyRequestsWaitConcurrently) {
  // 500 requests with 500 ms latency each: served one after another this would take 250 s.
  constexpr int kConnections = 500;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  ASSERT_GE(lim.rlim_cur, static_cast<rlim_t>(kConnections + 64));
  reset_stats(port());
  const auto start = SteadyClock::now();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    clients.back()->send_get("/img/c" + std::to_string(i) + ".jpg?latency=500");
  }
  std::this_thread::sleep_for(200ms);
  const std::int64_t in_flight_midway = stat(stats(port()), "in_flight");
  for (auto& client : clients) {
    const Response r = client->read_response();
    ASSERT_EQ(r.status, 200) << r.error;
  }
  const auto elapsed = SteadyClock::now() - start;
  EXPECT_LT(elapsed, 5s);
  const std::string json = stats(port());
  EXPECT_GE(stat(json, "max_in_flight"), kConnections) << json;
  EXPECT_GE(in_flight_midway, kConnections / 2) << json;
  EXPECT_GE(stat(json, "max_connections"), kConnections);
  EXPECT_EQ(stat(json, "bodies_sent"), kConnections);
}

TEST_F(FixtureServer, MalformedRequestsGet400AndClose) {
  {
    Client client(port());
    client.send_all("GET /img/a.jpg HTTP/1.1\r\nBad Header\r\n\r\n");
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(port());
    client.send_all("GET /img/a.jpg HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 431);
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(port());
    client.send_all("NONSENSE\r\n\r\n");
    EXPECT_EQ(client.read_response().status, 400);
  }
  // The server is still fine.
  EXPECT_EQ(get(port(), "/img/a.jpg").status, 200);
}

TEST_F(FixtureServer, ExitsZeroOnSigtermWithConnectionsOpen) {
  Client idle(port());
  Client waiting(port());
  waiting.send_get("/img/w.jpg?latency=60000");
  std::this_thread::sleep_for(100ms);
  const auto status = server_->signal_and_wait(SIGTERM, 5000ms);
  ASSERT_TRUE(status) << "server did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST_F(FixtureServer, ExitsZeroOnSigint) {
  const auto status = server_->signal_and_wait(SIGINT, 5000ms);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(FixtureServerOptions, DefaultLatencyAndThreads) {
  ServerProcess server({"--latency-ms", "300", "--threads", "2"});
  const auto start = SteadyClock::now();
  EXPECT_EQ(get(server.port(), "/img/d.jpg").status, 200);
  EXPECT_GE(SteadyClock::now() - start, 300ms);
  const auto fast_start = SteadyClock::now();
  EXPECT_EQ(get(server.port(), "/img/d.jpg?latency=0").status, 200);
  EXPECT_LT(SteadyClock::now() - fast_start, 300ms);
  // Counters are shared by both loops, whichever socket the kernel picked.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(get(server.port(), "/img/n.jpg?latency=0").status, 200);
  EXPECT_EQ(stat(stats(server.port()), "requests"), 22);
  const auto status = server.signal_and_wait(SIGTERM, 5000ms);
  ASSERT_TRUE(status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(FixtureServerOptions, RefusesHostsOtherThanLoopback) {
  const std::string dir = temp_dir();
  for (const std::string host : {"0.0.0.0", "::", "192.168.1.1"}) {
    const pid_t pid = ServerProcess::spawn({SLUICE_FIXTURE_SERVER, "--host", host, "--port", "0"}, dir + "/out");
    int status = 0;
    const auto deadline = SteadyClock::now() + 5s;
    while (waitpid(pid, &status, WNOHANG) != pid) {
      if (SteadyClock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        FAIL() << "server with --host " << host << " kept running";
      }
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2) << host;
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace sluice::fixture
