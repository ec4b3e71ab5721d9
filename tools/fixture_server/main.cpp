// sluice_fixture_server: a loopback HTTP/1.1 image host with query-selected faults, for tests and benchmarks.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "fixture_server/server.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sluice_fixture_server [--port N] [--port-file PATH] [--latency-ms N] [--threads N] [--host 127.0.0.1]\n"
    "\n"
    "Serves deterministic images on 127.0.0.1 until SIGTERM or SIGINT.\n"
    "  --port N         port to listen on; 0 (the default) lets the kernel pick one\n"
    "  --port-file PATH write the bound port there (atomically) once listening\n"
    "  --latency-ms N   delay every response by N ms unless the request says latency=MS (default 0)\n"
    "  --threads N      N independent epoll loops sharing the port via SO_REUSEPORT (default 1)\n"
    "  --host ADDR      only 127.0.0.1 is accepted: the server never listens beyond loopback\n"
    "Routes: GET /img/<name>.(jpg|png|gif|webp)?w=&h=&size=&v=&latency=&status=&retry_after=&\n"
    "  retry_after_date=&fail_first=&key=&ratio=&reset_after=&trickle=&chunked=&endless=&\n"
    "  content_type=&not_image=&redirect=&redirect_status=&content_length=&content_encoding=&\n"
    "  header_bytes=&cut=&magic_then_html=;  GET /stats;  GET|POST /stats/reset\n";

struct Options {
  sluice::fixture::ServerConfig server;
  std::string port_file;
};

std::optional<long long> parse_int(std::string_view s, long long min, long long max) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

// Returns nullopt after printing a message when the command line is unusable.
std::optional<Options> parse_options(int argc, char** argv, bool& help) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return std::nullopt;
    }
    std::string_view value;
    const std::size_t eq = arg.find('=');
    if (arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "sluice_fixture_server: %s needs a value\n", argv[i]);
      return std::nullopt;
    }
    auto number = [&](long long min, long long max) {
      const auto v = parse_int(value, min, max);
      if (!v)
        std::fprintf(stderr, "sluice_fixture_server: %.*s wants an integer in [%lld, %lld], got '%.*s'\n",
                     static_cast<int>(arg.size()), arg.data(), min, max, static_cast<int>(value.size()), value.data());
      return v;
    };
    if (arg == "--port") {
      const auto v = number(0, 65535);
      if (!v) return std::nullopt;
      options.server.port = static_cast<std::uint16_t>(*v);
    } else if (arg == "--port-file") {
      options.port_file = value;
    } else if (arg == "--latency-ms") {
      const auto v = number(0, 3'600'000);
      if (!v) return std::nullopt;
      options.server.latency = std::chrono::milliseconds(*v);
    } else if (arg == "--threads") {
      const auto v = number(1, 64);
      if (!v) return std::nullopt;
      options.server.threads = static_cast<int>(*v);
    } else if (arg == "--host") {
      if (value != "127.0.0.1") {
        std::fprintf(stderr,
                     "sluice_fixture_server: refusing --host %.*s: this test server listens on 127.0.0.1 only\n",
                     static_cast<int>(value.size()), value.data());
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "sluice_fixture_server: unknown option %.*s\n", static_cast<int>(arg.size()), arg.data());
      return std::nullopt;
    }
  }
  return options;
}

// Thousands of keep-alive connections need thousands of descriptors; take the hard limit.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Write to a temporary name and rename, so a reader polling for the file never sees it half-written.
bool write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return false;
  const bool written = std::fprintf(f, "%u\n", static_cast<unsigned>(port)) > 0;
  if (std::fclose(f) != 0 || !written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  const auto options = parse_options(argc, argv, help);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!options) {
    std::fputs("run sluice_fixture_server --help for usage\n", stderr);
    return 2;
  }
  raise_fd_limit();

  // Block the stop signals before any thread exists so all threads inherit the mask and only
  // sigwait below receives them; writes to closed sockets use MSG_NOSIGNAL, SIGPIPE is ignored anyway.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sluice::fixture::Server server(options->server);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice_fixture_server: %s\n", e.what());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  if (!options->port_file.empty() && !write_port_file(options->port_file, server.port())) {
    std::fprintf(stderr, "sluice_fixture_server: cannot write %s: %s\n", options->port_file.c_str(),
                 std::strerror(errno));
    return 1;
  }

  // Stop on SIGTERM/SIGINT, or when whoever started us is gone (a test killed by its timeout, a script
  // that exited): an orphaned fixture server must not outlive the run that needed it.
  const pid_t parent = getppid();
  for (;;) {
    timespec wait{1, 0};
    if (sigtimedwait(&stop_signals, nullptr, &wait) > 0) break;
    if (getppid() != parent) break;
  }
  server.stop();
  return 0;
}
