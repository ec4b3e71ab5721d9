// Listening sockets bound to loopback only, and the threads that run one event loop each.
#include "fixture_server/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace sluice::fixture {
namespace {

// Large enough that thousands of simultaneous connects never overflow it (an overflowing
// backlog drops SYNs, and the client retries only after a second). The kernel caps it at somaxconn.
constexpr int kListenBacklog = 4096;

int listen_on_loopback(std::uint16_t port, bool reuse_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    const int err = errno;
    close(fd);
    throw std::system_error(err, std::generic_category(), "setsockopt(SO_REUSEPORT)");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, kListenBacklog) < 0) {
    const int err = errno;
    close(fd);
    throw std::system_error(err, std::generic_category(), "bind/listen 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
    throw std::system_error(errno, std::generic_category(), "getsockname");
  return ntohs(addr.sin_port);
}

}  // namespace

Server::Server(ServerConfig config) : config_(config) {}

Server::~Server() {
  stop();
}

void Server::start() {
  const int threads = config_.threads < 1 ? 1 : config_.threads;
  const bool reuse_port = threads > 1;
  // The first socket resolves port 0; the others join it on the same port, and the kernel
  // spreads incoming connections over them.
  std::vector<int> fds;
  try {
    fds.push_back(listen_on_loopback(config_.port, reuse_port));
    port_ = bound_port(fds.front());
    for (int i = 1; i < threads; ++i) fds.push_back(listen_on_loopback(port_, reuse_port));
  } catch (...) {
    for (int fd : fds) close(fd);
    throw;
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    try {
      loops_.push_back(std::make_unique<EventLoop>(fds[i], state_, config_.latency));
    } catch (...) {
      for (std::size_t j = i + 1; j < fds.size(); ++j) close(fds[j]);
      loops_.clear();
      throw;
    }
  }
  for (auto& loop : loops_) threads_.emplace_back([&loop] { loop->run(); });
}

void Server::stop() {
  for (auto& loop : loops_) loop->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  loops_.clear();
}

}  // namespace sluice::fixture
