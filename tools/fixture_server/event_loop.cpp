// Edge-triggered epoll loop with a per-connection state machine: read, wait out latency, send, close.
#include "fixture_server/event_loop.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "fixture_server/http_date.hpp"

namespace sluice::fixture {
namespace {

// Request bodies are only read to be skipped (POST /stats/reset); larger ones get 413.
constexpr std::size_t kMaxRequestBody = 64 * 1024;
// Input buffered per connection, pipelined requests included; beyond it the socket is left unread
// (TCP flow control then slows the client) until the current response is done.
constexpr std::size_t kMaxBufferedInput = kMaxHeadBytes + kMaxRequestBody + 1024;
// Body bytes generated per refill; below the low-water mark the output is topped up before
// sending, so the head and the first body bytes leave in one send().
constexpr std::size_t kBodySlice = 64 * 1024;
constexpr std::size_t kLowWater = 16 * 1024;
// Per connection and wake-up, so one fast transfer cannot starve the others.
constexpr std::size_t kMaxBytesPerTurn = 1024 * 1024;
constexpr std::size_t kMaxDrainPerEvent = 1024 * 1024;
// How long a closing connection may take to read our FIN and close its side, and how long an
// abortive close waits for the kernel to deliver the bytes sent before it.
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr auto kResetFlushTimeout = std::chrono::seconds(2);
constexpr auto kResetPollInterval = std::chrono::milliseconds(2);
constexpr int kMaxEvents = 512;
constexpr int kMaxAcceptsPerWake = 512;

enum class Phase {
  kReading,    // waiting for (the rest of) a request head
  kWaiting,    // a request is planned; its latency has not elapsed
  kSending,    // writing head and body
  kResetting,  // reset_after reached: waiting for the sent bytes to be acknowledged, then RST
  kDraining,   // FIN sent; discarding input until the client closes or kDrainTimeout
};

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

struct EventLoop::Connection {
  explicit Connection(int socket_fd) : fd(socket_fd) {}

  int fd;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  std::size_t out_pos = 0;
  bool read_paused = false;  // stopped reading at kMaxBufferedInput; edge-triggered, so resume by hand
  bool peer_eof = false;
  bool request_open = false;  // counted in in_flight until answered or closed

  ResponsePlan plan;
  std::uint64_t body_size = 0;   // the body's natural length (UINT64_MAX when endless)
  std::uint64_t body_limit = 0;  // payload bytes to send: body_size, or fewer with reset_after
  std::uint64_t body_sent = 0;   // payload bytes moved into `out`
  bool body_done = false;        // all payload (and the chunked terminator) is in `out`
  Clock::time_point send_start;
  Clock::time_point reset_deadline;
  std::uint64_t timer_token = 0;
};

EventLoop::EventLoop(int listen_fd, SharedState& state, std::chrono::milliseconds default_latency)
    : listen_fd_(listen_fd), state_(state), default_latency_(default_latency), scratch_(64 * 1024) {
  // The destructor does not run for a throwing constructor, so release what exists before throwing.
  auto fail = [this](const char* what) {
    const int err = errno;
    if (wake_fd_ >= 0) close(wake_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (spare_fd_ >= 0) close(spare_fd_);
    close(listen_fd_);
    throw std::system_error(err, std::generic_category(), what);
  };
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fail("eventfd");
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: a wake with connections left in the backlog comes again
  ev.data.fd = listen_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) < 0) fail("epoll_ctl(listen)");
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) fail("epoll_ctl(eventfd)");
}

EventLoop::~EventLoop() {
  for (auto& c : connections_)
    if (c) close_connection(*c);
  if (spare_fd_ >= 0) close(spare_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  close(listen_fd_);
}

void EventLoop::stop() {
  const std::uint64_t one = 1;
  // The eventfd counter cannot overflow from a handful of stops, so the write cannot fail usefully.
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::run() {
  epoll_event events[kMaxEvents];
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timers_.timeout_ms(Clock::now()));
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("sluice_fixture_server: epoll_wait");
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) return;
      if (fd == listen_fd_)
        accept_connections();
      else
        on_socket_event(fd);
    }
    run_due_timers();
  }
}

void EventLoop::accept_connections() {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
        // Out of descriptors: accept and drop one connection with the spare slot, or the
        // level-triggered listener would wake us forever.
        close(spare_fd_);
        const int dropped = accept(listen_fd_, nullptr, nullptr);
        if (dropped >= 0) close(dropped);
        spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      return;  // EAGAIN, or an error the next wake will report again
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    // Edge-triggered with both directions armed once: no epoll_ctl per state change.
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      close(fd);
      continue;
    }
    if (static_cast<std::size_t>(fd) >= connections_.size()) connections_.resize(static_cast<std::size_t>(fd) + 1024);
    connections_[static_cast<std::size_t>(fd)] = std::make_unique<Connection>(fd);
    state_.stats.connection_opened();
  }
}

void EventLoop::on_socket_event(int fd) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= connections_.size() || !connections_[static_cast<std::size_t>(fd)])
    return;
  Connection& c = *connections_[static_cast<std::size_t>(fd)];
  // Errors and hang-ups surface through recv/send, which then close the connection.
  if (!read_input(c)) return;
  drive(c);
}

void EventLoop::run_due_timers() {
  TimerQueue::Entry entry;
  const auto now = Clock::now();
  while (timers_.pop_due(now, entry)) on_timer(entry.fd, entry.token);
}

void EventLoop::on_timer(int fd, std::uint64_t token) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= connections_.size()) return;
  Connection* c = connections_[static_cast<std::size_t>(fd)].get();
  if (!c || c->timer_token != token) return;  // the connection closed or rescheduled since
  c->timer_token = 0;
  switch (c->phase) {
    case Phase::kWaiting:
      start_response(*c);
      drive(*c);
      return;
    case Phase::kSending:  // the trickle allowance grew, or a transfer paused by kMaxBytesPerTurn resumes
      drive(*c);
      return;
    case Phase::kResetting:
      check_reset(*c);
      return;
    case Phase::kDraining:
      close_connection(*c);
      return;
    case Phase::kReading:
      return;
  }
}

void EventLoop::schedule(Connection& c, Clock::time_point deadline) {
  c.timer_token = next_token_++;
  timers_.schedule(deadline, c.fd, c.timer_token);
}

bool EventLoop::read_input(Connection& c) {
  char* buf = scratch_.data();
  std::size_t discarded = 0;
  for (;;) {
    const bool draining = c.phase == Phase::kDraining;
    if (!draining && c.in.size() >= kMaxBufferedInput) {
      c.read_paused = true;
      return true;
    }
    // A client that keeps sending while we close gets cut off by the drain timeout instead.
    if (draining && discarded >= kMaxDrainPerEvent) return true;
    const ssize_t r = recv(c.fd, buf, scratch_.size(), 0);
    if (r > 0) {
      if (draining)
        discarded += static_cast<std::size_t>(r);
      else
        c.in.append(buf, static_cast<std::size_t>(r));
      // A short read emptied the socket; the next arrival raises a new edge.
      if (static_cast<std::size_t>(r) < scratch_.size()) return true;
      continue;
    }
    if (r == 0) {
      c.peer_eof = true;
      if (draining) {
        close_connection(c);
        return false;
      }
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    close_connection(c);
    return false;
  }
}

void EventLoop::drive(Connection& c) {
  for (;;) {
    Step step = Step::kBlocked;
    switch (c.phase) {
      case Phase::kReading:
        if (c.read_paused) {
          c.read_paused = false;
          if (!read_input(c)) return;
        }
        step = start_next_request(c);
        break;
      case Phase::kSending:
        step = pump(c);
        break;
      case Phase::kWaiting:
      case Phase::kResetting:
      case Phase::kDraining:
        return;
    }
    if (step != Step::kProgress) return;
  }
}

EventLoop::Step EventLoop::start_next_request(Connection& c) {
  if (c.in.empty()) {
    if (!c.peer_eof) return Step::kBlocked;
    close_connection(c);
    return Step::kClosed;
  }
  Request request;
  const ParseResult parsed = parse_request_head(c.in, request);
  switch (parsed.status) {
    case ParseStatus::kIncomplete:
      if (!c.peer_eof) return Step::kBlocked;
      close_connection(c);
      return Step::kClosed;
    case ParseStatus::kBadRequest:
    case ParseStatus::kHeadTooLarge:
      state_.stats.count_request();
      c.in.clear();
      return accept_plan(c, plan_parse_error(parsed.status));
    case ParseStatus::kComplete:
      break;
  }
  if (request.has_transfer_encoding || request.content_length > kMaxRequestBody) {
    // Framing we will not read: answer and close rather than guess where the next request starts.
    state_.stats.count_request();
    c.in.clear();
    return accept_plan(c, request.has_transfer_encoding
                              ? plan_text(501, "request bodies with Transfer-Encoding are not supported", true)
                              : plan_text(413, "request body too large", true));
  }
  const std::size_t total = parsed.consumed + static_cast<std::size_t>(request.content_length);
  if (c.in.size() < total) {
    if (!c.peer_eof) return Step::kBlocked;
    close_connection(c);
    return Step::kClosed;
  }
  c.in.erase(0, total);
  return accept_plan(c, plan_response(request, state_, default_latency_, unix_now()));
}

EventLoop::Step EventLoop::accept_plan(Connection& c, ResponsePlan plan) {
  c.plan = std::move(plan);
  if (c.plan.counted) {
    state_.stats.request_started();
    c.request_open = true;
  }
  if (c.plan.latency > std::chrono::milliseconds::zero()) {
    c.phase = Phase::kWaiting;
    schedule(c, Clock::now() + c.plan.latency);
    return Step::kBlocked;
  }
  start_response(c);
  return Step::kProgress;
}

void EventLoop::start_response(Connection& c) {
  ResponsePlan& plan = c.plan;
  if (plan.counted) state_.stats.count_response(plan.status);
  // A client that already shut down its sending side gets this response and then our FIN.
  if (c.peer_eof) plan.close = true;
  c.out = render_head(plan, http_date());
  c.out_pos = 0;
  c.body_size = plan.body.size().value_or(UINT64_MAX);
  c.body_limit = plan.send_body ? c.body_size : 0;
  if (plan.reset_after) c.body_limit = std::min(c.body_limit, *plan.reset_after);
  c.body_sent = 0;
  c.body_done = false;
  c.send_start = Clock::now();
  c.phase = Phase::kSending;
}

void EventLoop::produce_body(Connection& c) {
  const ResponsePlan& plan = c.plan;
  if (c.body_sent >= c.body_limit) {
    // The chunked terminator only follows a body that really ended, not one cut by reset_after.
    if (plan.chunked && plan.send_body && c.body_sent == c.body_size) c.out += "0\r\n\r\n";
    c.body_done = true;
    return;
  }
  std::uint64_t want = std::min<std::uint64_t>(std::min(kBodySlice, scratch_.size()), c.body_limit - c.body_sent);
  if (plan.trickle_bytes_per_sec > 0) {
    const double rate = static_cast<double>(plan.trickle_bytes_per_sec);
    const double elapsed = std::chrono::duration<double>(Clock::now() - c.send_start).count();
    const auto allowed = static_cast<std::uint64_t>(rate * elapsed);
    if (allowed <= c.body_sent) {
      // Wake when a slice of about 50 ms worth of bytes (at least one) is allowed.
      const std::uint64_t slice = std::max<std::uint64_t>(1, plan.trickle_bytes_per_sec / 20);
      const double due = static_cast<double>(c.body_sent + slice) / rate;
      schedule(c, c.send_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due)));
      return;
    }
    want = std::min(want, allowed - c.body_sent);
  }
  const std::size_t got = plan.body.read(c.body_sent, scratch_.data(), static_cast<std::size_t>(want));
  if (got == 0) {  // the source ended before its announced size; end the body here
    c.body_limit = c.body_sent;
    c.body_done = true;
    return;
  }
  if (plan.chunked) {
    char size_line[24];
    const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", got);
    c.out.append(size_line, static_cast<std::size_t>(len));
  }
  c.out.append(scratch_.data(), got);
  if (plan.chunked) c.out += "\r\n";
  c.body_sent += got;
}

EventLoop::Step EventLoop::pump(Connection& c) {
  std::size_t sent_this_turn = 0;
  for (;;) {
    if (sent_this_turn >= kMaxBytesPerTurn) {
      // A fast reader of a big or endless body would otherwise keep the loop here for ever;
      // with edge triggering no new edge comes, so a due-now timer resumes it next iteration.
      schedule(c, Clock::now());
      return Step::kBlocked;
    }
    if (!c.body_done && c.out.size() - c.out_pos < kLowWater && c.timer_token == 0) {
      if (c.out_pos > 0) {
        c.out.erase(0, c.out_pos);
        c.out_pos = 0;
      }
      produce_body(c);
    }
    if (c.out_pos < c.out.size()) {
      const ssize_t w = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (w >= 0) {
        c.out_pos += static_cast<std::size_t>(w);
        sent_this_turn += static_cast<std::size_t>(w);
        if (c.out_pos == c.out.size()) {
          c.out.clear();
          c.out_pos = 0;
        }
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Step::kBlocked;  // EPOLLOUT brings us back
      close_connection(c);
      return Step::kClosed;
    }
    if (!c.body_done) return Step::kBlocked;  // trickle: a timer brings us back
    return finish_response(c);
  }
}

EventLoop::Step EventLoop::finish_response(Connection& c) {
  const ResponsePlan& plan = c.plan;
  if (c.request_open) {
    if (plan.successful_body && plan.send_body && c.body_sent == c.body_size) state_.stats.count_body_sent();
    state_.stats.request_finished();
    c.request_open = false;
  }
  if (plan.reset_after) {
    c.phase = Phase::kResetting;
    c.reset_deadline = Clock::now() + kResetFlushTimeout;
    return check_reset(c);
  }
  if (plan.close || c.peer_eof) return begin_drain(c);
  c.phase = Phase::kReading;
  c.plan = ResponsePlan{};
  return Step::kProgress;
}

EventLoop::Step EventLoop::check_reset(Connection& c) {
  // An RST discards whatever the kernel has not delivered yet, so wait until the client has
  // acknowledged every byte sent; then the client reads exactly reset_after body bytes and an error.
  int unacknowledged = 0;
  if (ioctl(c.fd, SIOCOUTQ, &unacknowledged) < 0 || unacknowledged == 0 || Clock::now() >= c.reset_deadline) {
    close_connection(c, true);
    return Step::kClosed;
  }
  schedule(c, Clock::now() + kResetPollInterval);
  return Step::kBlocked;
}

EventLoop::Step EventLoop::begin_drain(Connection& c) {
  // Closing with unread input would make the kernel send RST, which can destroy the response
  // before the client reads it; send FIN first and read until the client closes.
  if (c.peer_eof) {
    close_connection(c);
    return Step::kClosed;
  }
  shutdown(c.fd, SHUT_WR);
  c.phase = Phase::kDraining;
  c.in.clear();
  c.in.shrink_to_fit();
  schedule(c, Clock::now() + kDrainTimeout);
  if (!read_input(c)) return Step::kClosed;
  return Step::kBlocked;
}

void EventLoop::close_connection(Connection& c, bool abortive) {
  if (abortive) {
    const linger lg{1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  if (c.request_open) state_.stats.request_finished();
  state_.stats.connection_closed();
  const int fd = c.fd;
  close(fd);
  connections_[static_cast<std::size_t>(fd)].reset();
}

const std::string& EventLoop::http_date() {
  const std::int64_t now = unix_now();
  if (now != date_second_) {
    date_second_ = now;
    date_ = format_http_date(now);
  }
  return date_;
}

}  // namespace sluice::fixture
