// One epoll loop: accepts on its own listening socket and runs every connection's state machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fixture_server/responses.hpp"
#include "fixture_server/stats.hpp"
#include "fixture_server/timer_queue.hpp"

namespace sluice::fixture {

class EventLoop {
 public:
  // Takes ownership of listen_fd (non-blocking, already listening). Throws std::system_error.
  EventLoop(int listen_fd, SharedState& state, std::chrono::milliseconds default_latency);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(); connections still open then are closed.
  void run();
  // Callable from any thread.
  void stop();

 private:
  struct Connection;
  enum class Step { kProgress, kBlocked, kClosed };

  void accept_connections();
  void on_socket_event(int fd);
  void on_timer(int fd, std::uint64_t token);
  void run_due_timers();

  bool read_input(Connection& c);
  void drive(Connection& c);
  Step start_next_request(Connection& c);
  Step accept_plan(Connection& c, ResponsePlan plan);
  void start_response(Connection& c);
  Step pump(Connection& c);
  void produce_body(Connection& c);
  Step finish_response(Connection& c);
  Step check_reset(Connection& c);
  Step begin_drain(Connection& c);
  void schedule(Connection& c, Clock::time_point deadline);
  void close_connection(Connection& c, bool abortive = false);
  const std::string& http_date();

  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int spare_fd_ = -1;  // released when accept hits EMFILE, so the pending connection can be refused
  SharedState& state_;
  std::chrono::milliseconds default_latency_;
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  TimerQueue timers_;
  std::uint64_t next_token_ = 1;
  std::vector<char> scratch_;
  std::int64_t date_second_ = -1;
  std::string date_;
};

}  // namespace sluice::fixture
