// In-process HTTP/1.1 image server on 127.0.0.1 for the fetcher tests, with latency and fault knobs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sluice::test {

// Structurally valid images of each format (zero pixel data), `size` bytes long when that fits.
inline std::string make_image_bytes(std::string_view ext, std::uint32_t w, std::uint32_t h, std::size_t size) {
  std::string b;
  auto be16 = [&](std::uint32_t v) { b += char(v >> 8 & 0xff), b += char(v & 0xff); };
  auto be32 = [&](std::uint32_t v) { be16(v >> 16), be16(v & 0xffff); };
  auto le16 = [&](std::uint32_t v) { b += char(v & 0xff), b += char(v >> 8 & 0xff); };
  auto le24 = [&](std::uint32_t v) { le16(v & 0xffff), b += char(v >> 16 & 0xff); };
  auto le32 = [&](std::uint32_t v) { le16(v & 0xffff), le16(v >> 16); };
  auto png_chunk = [&](std::string_view type, const std::string& data) {
    be32(static_cast<std::uint32_t>(data.size()));
    const std::string body = std::string(type) + data;
    b += body;
    be32(static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  if (ext == "jpg" || ext == "jpeg") {
    b += "\xff\xd8\xff\xc0";
    be16(17), b += char(8), be16(h), be16(w);
    b += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
    b += std::string("\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00", 14);
    b += std::string(size > b.size() + 2 ? size - b.size() - 2 : 0, '\0');
    b += "\xff\xd9";
  } else if (ext == "png") {
    b += std::string("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    for (std::uint32_t v : {w, h}) {
      for (int shift = 24; shift >= 0; shift -= 8) ihdr += char(v >> shift & 0xff);
    }
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);
    png_chunk("IHDR", ihdr);
    png_chunk("IDAT", std::string(size > b.size() + 24 ? size - b.size() - 24 : 0, '\0'));
    png_chunk("IEND", "");
  } else if (ext == "gif") {
    b += "GIF89a", le16(w), le16(h), b += std::string(3, '\0');
    b += "\x2c", le16(0), le16(0), le16(w), le16(h), b += std::string("\x00\x02", 2);
    std::size_t data = size > b.size() + 2 ? size - b.size() - 2 : 0;
    while (data > 0) {
      // A sub-block of L bytes takes L + 1; never leave a single byte, which could not be one.
      std::size_t block = std::min<std::size_t>(255, data - 1);
      if (data - (block + 1) == 1) --block;
      if (block == 0) break;
      b += char(block), b += std::string(block, '\0');
      data -= block + 1;
    }
    b += std::string("\x00\x3b", 2);
  } else {
    const std::size_t payload = size > 38 ? (size - 38) & ~std::size_t{1} : 0;
    b += "RIFF", le32(static_cast<std::uint32_t>(30 + payload)), b += "WEBPVP8X";
    b += std::string("\x0a\x00\x00\x00", 4);
    b += std::string(4, '\0'), le24(w - 1), le24(h - 1);
    b += "VP8 ", le32(static_cast<std::uint32_t>(payload)), b += std::string(payload, '\0');
  }
  return b;
}

class LoopbackImageServer {
 public:
  LoopbackImageServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A deep backlog: a shallow one makes bursts of connects stall on SYN retries.
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listen_fd_, 4096) != 0) {
      throw std::runtime_error("test server: cannot listen");
    }
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    add(listen_fd_, EPOLLIN);
    add(wake_, EPOLLIN);
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackImageServer() {
    stop_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
    thread_.join();
    for (auto& [fd, conn] : conns_) ::close(fd);
    ::close(listen_fd_);
    ::close(epoll_);
    ::close(wake_);
  }
  LoopbackImageServer(const LoopbackImageServer&) = delete;
  LoopbackImageServer& operator=(const LoopbackImageServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& path_and_query) const { return base() + path_and_query; }

  std::size_t requests() const { return requests_.load(); }
  std::size_t connections() const { return connections_.load(); }
  std::size_t max_in_flight() const { return max_in_flight_.load(); }
  std::size_t in_flight() const { return in_flight_.load(); }
  std::size_t requests_for(const std::string& target_prefix) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& head : heads_) n += head.rfind("GET " + target_prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  // The raw request heads received so far, in arrival order.
  std::vector<std::string> heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Conn {
    int fd = -1;
    std::uint64_t id = 0;
    std::string in;
    std::string out;      // ready to write
    std::string pending;  // trickled into out over time
    std::size_t trickle_bps = 0;
    bool endless = false;
    bool busy = false;  // a request is being answered
    bool close_after = false;
    bool reset_after = false;  // close with RST once out is flushed
    bool want_out = false;
  };
  struct Timer {
    Clock::time_point at;
    std::uint64_t conn_id;
    bool operator>(const Timer& other) const { return at > other.at; }
  };

  void add(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }
  void watch_out(Conn& c, bool on) {
    if (c.want_out == on) return;
    c.want_out = on;
    epoll_event event{};
    event.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    event.data.fd = c.fd;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event);
  }

  void run() {
    std::vector<epoll_event> events(1024);
    while (!stop_) {
      int timeout = -1;
      if (!timers_.empty()) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers_.top().at - Clock::now()).count();
        timeout = static_cast<int>(std::max<long long>(0, wait));
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == wake_) continue;
        if (fd == listen_fd_) {
          accept_all();
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        if (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          if (!read_from(c)) {
            close_conn(c.fd, false);
            continue;
          }
        }
        if (!flush(c)) close_conn(c.fd, false);
      }
      const auto now = Clock::now();
      while (!timers_.empty() && timers_.top().at <= now) {
        const auto id = timers_.top().conn_id;
        timers_.pop();
        auto it = by_id_.find(id);
        if (it == by_id_.end()) continue;
        Conn& c = *it->second;
        if (!c.pending.empty() && c.trickle_bps > 0) {
          trickle(c);
        } else if (c.busy && c.out.empty() && !c.pending.empty()) {
          c.out = std::move(c.pending);
          c.pending.clear();
        }
        if (!flush(c)) close_conn(c.fd, false);
      }
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conn->id = ++next_id_;
      by_id_[conn->id] = conn.get();
      conns_[fd] = std::move(conn);
      add(fd, EPOLLIN);
      ++connections_;
    }
  }

  void close_conn(int fd, bool reset) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    if (it->second->busy) --in_flight_;
    if (reset) {
      linger hard{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    by_id_.erase(it->second->id);
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(it);
  }

  bool read_from(Conn& c) {
    char buffer[16384];
    for (;;) {
      const ssize_t n = ::read(c.fd, buffer, sizeof buffer);
      if (n > 0) {
        c.in.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return false;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    if (!c.busy) start_request(c);
    return true;
  }

  // Returns false when the connection is finished and must be closed.
  bool flush(Conn& c) {
    while (!c.out.empty()) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return false;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    if (c.out.empty() && c.endless && c.busy) {
      // Keep the socket buffer topped up with chunks until the client gives up.
      c.out = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";
      watch_out(c, true);
      return true;
    }
    watch_out(c, !c.out.empty());
    if (c.out.empty() && c.pending.empty() && c.busy) {
      if (c.reset_after) {
        close_conn(c.fd, true);
        return true;
      }
      c.busy = false;
      --in_flight_;
      if (c.close_after) return false;
      if (!c.in.empty()) start_request(c);
      if (!c.out.empty()) return flush(c);
    }
    return true;
  }

  void trickle(Conn& c) {
    // Ten slices a second.
    const std::size_t slice = std::max<std::size_t>(1, c.trickle_bps / 10);
    const std::size_t n = std::min(slice, c.pending.size());
    c.out.append(c.pending, 0, n);
    c.pending.erase(0, n);
    if (!c.pending.empty()) timers_.push(Timer{Clock::now() + std::chrono::milliseconds(100), c.id});
  }

  static std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  static std::string status_text(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 302:
        return "Found";
      case 304:
        return "Not Modified";
      case 404:
        return "Not Found";
      case 429:
        return "Too Many Requests";
      case 500:
        return "Internal Server Error";
      case 503:
        return "Service Unavailable";
      default:
        return "Status";
    }
  }

  void start_request(Conn& c) {
    const auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::string head = c.in.substr(0, end + 4);
    c.in.erase(0, end + 4);
    {
      std::lock_guard lock(mutex_);
      heads_.push_back(head);
    }
    ++requests_;
    c.busy = true;
    const auto now_in_flight = ++in_flight_;
    std::size_t seen = max_in_flight_.load();
    while (now_in_flight > seen && !max_in_flight_.compare_exchange_weak(seen, now_in_flight)) {
    }

    std::map<std::string, std::string> headers;
    std::size_t line_start = head.find("\r\n") + 2;
    while (line_start < end) {
      const auto line_end = head.find("\r\n", line_start);
      const std::string line = head.substr(line_start, line_end - line_start);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      line_start = line_end + 2;
    }
    c.close_after = headers.count("connection") && headers.at("connection") == "close";

    const auto sp1 = head.find(' ');
    const auto sp2 = head.find(' ', sp1 + 1);
    const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto qmark = target.find('?');
    const std::string path = target.substr(0, qmark);
    std::map<std::string, std::string> q;
    if (qmark != std::string::npos) {
      std::string_view rest(target);
      rest.remove_prefix(qmark + 1);
      while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        q[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
      }
    }
    auto get = [&](const char* name) {
      const auto it = q.find(name);
      return it == q.end() ? std::string() : it->second;
    };
    auto num = [&](const char* name, long fallback) { return q.count(name) ? std::stol(q.at(name)) : fallback; };

    std::string response;
    std::string body;
    int status = 200;
    std::string extra;
    const auto dot = path.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (path.rfind("/img/", 0) != 0) {
      status = 404;
    } else {
      const std::string key = q.count("key") ? get("key") : target;
      const long fail_first = num("fail_first", 0);
      const long seen_before = attempts_[key]++;
      if (q.count("redirect")) {
        status = 302;
        extra += "Location: " + get("redirect") + "\r\n";
      } else if (fail_first > 0 ? seen_before < fail_first : q.count("status") > 0) {
        status = static_cast<int>(num("status", 503));
        if (q.count("retry_after")) extra += "Retry-After: " + get("retry_after") + "\r\n";
      }
    }
    if (status == 200) {
      const std::string etag =
          "\"" + std::to_string(std::hash<std::string>{}(path + get("size") + get("w") + get("h"))) + "\"";
      const std::string last_modified = "Wed, 01 Jan 2025 00:00:00 GMT";
      extra += "ETag: " + etag + "\r\nLast-Modified: " + last_modified + "\r\n";
      const auto if_none_match = headers.find("if-none-match");
      const auto if_modified_since = headers.find("if-modified-since");
      if (if_none_match != headers.end()
              ? if_none_match->second == etag
              : if_modified_since != headers.end() && if_modified_since->second == last_modified) {
        status = 304;
      } else {
        std::string type = ext == "jpg" ? "image/jpeg" : "image/" + ext;
        if (q.count("content_type")) type = get("content_type");
        extra += "Content-Type: " + type + "\r\n";
        const auto w = static_cast<std::uint32_t>(num("w", 64));
        const auto h = static_cast<std::uint32_t>(num("h", 48));
        const auto size = static_cast<std::size_t>(num("size", 1024));
        body = q.count("not_image") ? std::string("<html>not an image</html>") + std::string(size, ' ')
                                    : make_image_bytes(ext, w, h, size);
        if (q.count("header_bytes"))
          extra += "X-Padding: " + std::string(static_cast<std::size_t>(num("header_bytes", 0)), 'p') + "\r\n";
      }
    } else if (status != 304) {
      body = status_text(status) + "\n";
      extra += "Content-Type: text/plain\r\n";
    }
    const bool chunked = q.count("chunked") || q.count("endless");
    response = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n" + extra;
    if (status == 304) {
      response += "\r\n";
    } else if (q.count("endless")) {
      response += "Transfer-Encoding: chunked\r\n\r\n";
      c.endless = true;
      c.close_after = true;
    } else if (chunked) {
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", body.size());
      response += "Transfer-Encoding: chunked\r\n\r\n" + std::string(size_line) + body + "\r\n0\r\n\r\n";
    } else {
      response += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      if (q.count("reset_after")) {
        const auto keep = std::min(body.size(), static_cast<std::size_t>(num("reset_after", 0)));
        response += body.substr(0, keep);
        c.reset_after = true;
      } else {
        response += body;
      }
    }
    const long latency = num("latency", 0);
    c.trickle_bps = static_cast<std::size_t>(num("trickle", 0));
    if (latency > 0 || c.trickle_bps > 0) {
      c.pending = std::move(response);
      timers_.push(Timer{Clock::now() + std::chrono::milliseconds(latency), c.id});
    } else {
      c.out = std::move(response);
    }
  }

  int listen_fd_ = -1;
  int epoll_ = -1;
  int wake_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::uint64_t, Conn*> by_id_;
  std::uint64_t next_id_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::unordered_map<std::string, long> attempts_;
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> max_in_flight_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
  std::thread thread_;
};

}  // namespace sluice::test
