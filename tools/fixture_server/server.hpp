// The fixture server: listening sockets on 127.0.0.1 and one event loop thread per socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "fixture_server/event_loop.hpp"
#include "fixture_server/stats.hpp"

namespace sluice::fixture {

struct ServerConfig {
  std::uint16_t port = 0;  // 0: the kernel picks a free port
  std::chrono::milliseconds latency{0};
  int threads = 1;  // independent epoll loops sharing the port through SO_REUSEPORT
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (throws std::system_error), then starts the loops. Connections are
  // accepted into the backlog from here on, so the port can be announced right after.
  void start();
  // Stops and joins the loops; open connections are closed. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  SharedState& state() { return state_; }

 private:
  ServerConfig config_;
  SharedState state_;
  std::uint16_t port_ = 0;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::fixture
