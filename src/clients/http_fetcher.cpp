// HttpFetcher: libcurl multi_socket + epoll loop with its own FIFO, easy-handle pool, retries and SSRF guard.
#include "clients/http_fetcher.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "clients/address_guard.hpp"
#include "clients/image_validate.hpp"

namespace sluice {

std::string_view to_string(FetchResult::Status status) {
  switch (status) {
    case FetchResult::Status::ok:
      return "ok";
    case FetchResult::Status::not_modified:
      return "not_modified";
    case FetchResult::Status::failed:
      return "failed";
    case FetchResult::Status::aborted:
      return "aborted";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

// libcurl's receive buffer (16 KiB by default) is allocated per handle, which adds up at 1,000+
// handles; 8 KiB still delivers a typical 100 KB image in about a dozen write callbacks.
constexpr long curl_buffer_size = 8 * 1024;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// curl_global_init is reference counted and thread-safe in 7.84+ builds that report
// CURL_VERSION_THREADSAFE, which Debian's 7.88 does.
class CurlGlobal {
 public:
  CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "image/JPEG; charset=binary" -> "image/jpeg".
std::string media_type(std::string_view content_type) {
  const auto end = content_type.find(';');
  auto type = content_type.substr(0, end);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return lowercase(type);
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// The dedup key: two jobs share a transfer only if they would send identical requests.
std::string request_key(const FetchJob& job) {
  std::string key;
  key.reserve(job.url.size() + job.etag.size() + job.last_modified.size() + 2);
  key.append(job.url).append(1, '\0').append(job.etag).append(1, '\0').append(job.last_modified);
  return key;
}

bool retryable_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// What makes a successful response's body untrustworthy before a byte of it is kept: a
// Content-Length that is not one plain number (libcurl reads "12abc" as 12 and "10, 20" as 10,
// and stores the fragment), or a Content-Encoding although none was offered (no Accept-Encoding is
// sent, so the bytes would be stored still encoded). Empty when the head is sound.
std::string head_problem(CURL* easy) {
  curl_header* header = nullptr;
  if (curl_easy_header(easy, "Content-Length", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
    const std::size_t amount = header->amount;
    std::string first;
    for (std::size_t i = 0; i < amount; ++i) {
      if (i > 0 && curl_easy_header(easy, "Content-Length", i, CURLH_HEADER, -1, &header) != CURLHE_OK) break;
      const std::string_view value = trim(header->value);
      const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
      if (!digits || (i > 0 && value != first)) {
        return "malformed Content-Length: " + std::string(i > 0 && digits ? first + " and " : "") + std::string(value);
      }
      if (i == 0) first = std::string(value);
    }
  }
  if (curl_easy_header(easy, "Content-Encoding", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
    const std::string value = lowercase(trim(header->value));
    if (!value.empty() && value != "identity") {
      return "content encoding " + std::string(trim(header->value)) + " was not offered";
    }
  }
  return {};
}

struct Settings {
  FetchPolicy policy;
  std::vector<std::string> allowed_types;  // lowercased media types
  AddressGuard guard;
  std::string accept_header;
};

}  // namespace

class HttpFetcher::Loop {
 public:
  Loop(std::shared_ptr<const Settings> settings, std::size_t pool_size, std::size_t per_host, std::uint64_t seed);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  void submit(std::string key, FetchJob job, FetchCallback done);
  std::uint64_t request_abort();
  void wait_for_abort(std::uint64_t target);
  void request_stop();
  bool on_io_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  void add_stats(FetchStats& stats) const;

 private:
  struct Task;
  struct Slot;

  struct Submission {
    std::uint64_t seq = 0;
    std::string key;
    FetchJob job;
    FetchCallback done;
  };
  struct Waiter {
    std::uint64_t seq = 0;
    void* user = nullptr;
    FetchCallback done;
  };
  struct Delivery {
    FetchCallback done;
    FetchResult result;
  };
  struct HostState {
    std::size_t active = 0;  // transfers holding a handle
    std::size_t refs = 0;    // live tasks naming this host
    std::deque<Task*> blocked;
    bool listed = false;  // in unblocked_
  };
  enum class TaskState { queued, running, waiting };
  struct Task {
    std::string key;
    FetchJob job;
    HostState* host = nullptr;
    std::string host_key;
    std::vector<Waiter> waiters;
    int attempts = 0;
    TaskState state = TaskState::queued;
    Slot* slot = nullptr;
  };
  struct Slot {
    Loop* loop = nullptr;
    EasyHandle easy;
    HeaderList headers;
    Task* task = nullptr;
    std::string body;
    std::size_t header_bytes = 0;
    bool body_started = false;
    bool body_too_large = false;
    bool headers_too_large = false;
    std::string refused_type;       // set when the body was refused for its content type
    std::string refused;            // the whole reason when a response was refused for its head
    curl_off_t response_start = 0;  // bytes received before the current response's body
    std::string blocked;            // reject message from the SSRF guard
    char error[CURL_ERROR_SIZE] = {};
  };
  struct RetryEntry {
    Clock::time_point due;
    std::uint64_t order = 0;
    Task* task = nullptr;
  };
  struct RetryLater {
    bool operator()(const RetryEntry& a, const RetryEntry& b) const {
      return a.due != b.due ? a.due > b.due : a.order > b.order;
    }
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* loop);
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* slot);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* slot);
  static int on_progress(void* slot, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
  static curl_socket_t on_open_socket(void* slot, curlsocktype purpose, curl_sockaddr* address);

  void run();
  bool take_control();
  void accept(Submission&& submission, std::vector<Delivery>& out);
  void abort_tasks(std::vector<Delivery>& out);
  void promote_due_retries(Clock::time_point now);
  void dispatch(std::vector<Delivery>& out);
  Task* next_runnable();
  Slot* acquire_slot();
  std::unique_ptr<Slot> make_slot();
  bool start(Task* task, Slot* slot);
  void release_slot(Task* task);
  void collect_finished();
  void finish_attempt(Slot* slot, CURLcode code, std::vector<Delivery>& out);
  long backoff_ms(int attempts);
  void complete(Task* task, FetchResult&& result, std::vector<Delivery>& out);
  void erase_task(Task* task);
  void deliver(std::vector<Delivery>& deliveries);
  int wait_timeout_ms(Clock::time_point now) const;
  void publish_gauges();
  void wake();

  const std::shared_ptr<const Settings> settings_;
  const FetchPolicy& policy_;
  const std::size_t pool_size_;
  const std::size_t per_host_;
  CurlGlobal curl_global_;

  // Owned by the I/O thread once it runs.
  MultiHandle multi_;
  FileDescriptor epoll_;
  FileDescriptor wake_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_slots_;
  std::size_t running_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Task>> tasks_;
  std::unordered_map<std::string, HostState> hosts_;
  std::deque<Task*> ready_;
  std::deque<HostState*> unblocked_;
  std::vector<RetryEntry> retry_heap_;
  std::uint64_t retry_order_ = 0;
  std::optional<Clock::time_point> curl_deadline_;
  std::uint64_t abort_handled_ = 0;
  std::mt19937_64 rng_;

  // Shared with submitting threads.
  mutable std::mutex mutex_;
  std::condition_variable abort_done_cv_;
  std::vector<Submission> incoming_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t abort_requested_ = 0;  // jobs with seq below this are to be aborted
  std::uint64_t abort_done_ = 0;
  bool stopping_ = false;
  bool closed_ = false;

  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> waiting_retry_{0};
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> not_modified_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> aborted_{0};
  std::atomic<std::uint64_t> shared_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> callback_exceptions_{0};

  std::thread thread_;  // last: starts once everything above exists
};

HttpFetcher::Loop::Loop(std::shared_ptr<const Settings> settings, std::size_t pool_size, std::size_t per_host,
                        std::uint64_t seed)
    : settings_(std::move(settings)),
      policy_(settings_->policy),
      pool_size_(pool_size),
      per_host_(per_host),
      multi_(curl_multi_init()),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      rng_(seed) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  if (epoll_.get() < 0 || wake_.get() < 0) {
    throw std::runtime_error(std::string("epoll/eventfd: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_.get();
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0) {
    throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  CURLM* multi = multi_.get();
  const auto pool = static_cast<long>(pool_size_);
  bool ok = curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Loop::on_socket) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Loop::on_timer) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, pool) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(per_host_)) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, pool) == CURLM_OK;
  if (!ok) throw std::runtime_error("curl_multi_setopt failed");
  // Made here rather than lazily so that an option this libcurl rejects fails the constructor.
  slots_.push_back(make_slot());
  free_slots_.push_back(slots_.back().get());
  thread_ = std::thread([this] { run(); });
}

HttpFetcher::Loop::~Loop() {
  request_stop();
  thread_.join();
}

void HttpFetcher::Loop::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abort_requested_ = std::numeric_limits<std::uint64_t>::max();
  }
  wake();
}

void HttpFetcher::Loop::wake() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero, which wakes the loop just as well.
  [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
}

void HttpFetcher::Loop::submit(std::string key, FetchJob job, FetchCallback done) {
  Submission submission{0, std::move(key), std::move(job), std::move(done)};
  bool closed = false;
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      closed = true;
    } else {
      submission.seq = next_seq_++;
      was_empty = incoming_.empty();
      incoming_.push_back(std::move(submission));
    }
  }
  submitted_.fetch_add(1, std::memory_order_relaxed);
  if (closed) {
    std::vector<Delivery> late(1);
    late[0].done = std::move(submission.done);
    late[0].result.status = FetchResult::Status::aborted;
    late[0].result.error = "aborted";
    late[0].result.url = std::move(submission.job.url);
    late[0].result.user = submission.job.user;
    deliver(late);
    return;
  }
  // A non-empty queue means a wake-up is already pending and the loop has not yet taken the queue.
  if (was_empty) wake();
}

std::uint64_t HttpFetcher::Loop::request_abort() {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    abort_requested_ = std::max(abort_requested_, next_seq_);
    target = next_seq_;
  }
  wake();
  return target;
}

void HttpFetcher::Loop::wait_for_abort(std::uint64_t target) {
  std::unique_lock lock(mutex_);
  abort_done_cv_.wait(lock, [&] { return abort_done_ >= target || closed_; });
}

void HttpFetcher::Loop::add_stats(FetchStats& stats) const {
  std::size_t incoming = 0;
  {
    std::lock_guard lock(mutex_);
    incoming = incoming_.size();
  }
  stats.in_flight += in_flight_.load(std::memory_order_relaxed);
  stats.queued += queued_.load(std::memory_order_relaxed) + incoming;
  stats.waiting_retry += waiting_retry_.load(std::memory_order_relaxed);
  stats.submitted += submitted_.load(std::memory_order_relaxed);
  stats.completed += completed_.load(std::memory_order_relaxed);
  stats.ok += ok_.load(std::memory_order_relaxed);
  stats.not_modified += not_modified_.load(std::memory_order_relaxed);
  stats.failed += failed_.load(std::memory_order_relaxed);
  stats.aborted += aborted_.load(std::memory_order_relaxed);
  stats.shared += shared_.load(std::memory_order_relaxed);
  stats.retries += retries_.load(std::memory_order_relaxed);
  stats.bytes += bytes_.load(std::memory_order_relaxed);
  stats.callback_exceptions += callback_exceptions_.load(std::memory_order_relaxed);
}

// ---- libcurl callbacks (all on the I/O thread, inside curl_multi_socket_action) ----

int HttpFetcher::Loop::on_socket(CURL*, curl_socket_t fd, int what, void* loop_ptr, void* socket_data) {
  auto* loop = static_cast<Loop*>(loop_ptr);
  const int epoll = loop->epoll_.get();
  if (what == CURL_POLL_REMOVE) {
    // The socket may already be closed, which removed it from the epoll set; ENOENT/EBADF are fine.
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  event.data.fd = fd;
  // socket_data is non-null once curl_multi_assign marked the socket as registered. A closed and
  // reused descriptor number arrives as a new socket, hence the fallbacks both ways.
  if (socket_data == nullptr) {
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
      epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
    }
    curl_multi_assign(loop->multi_.get(), fd, loop);
  } else if (epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) != 0 && errno == ENOENT) {
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  }
  return 0;
}

int HttpFetcher::Loop::on_timer(CURLM*, long timeout_ms, void* loop_ptr) {
  auto* loop = static_cast<Loop*>(loop_ptr);
  if (timeout_ms < 0) {
    loop->curl_deadline_.reset();
  } else {
    loop->curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

std::size_t HttpFetcher::Loop::on_header(char* data, std::size_t size, std::size_t count, void* slot_ptr) {
  auto* slot = static_cast<Slot*>(slot_ptr);
  const std::size_t n = size * count;
  if (n >= 5 && std::memcmp(data, "HTTP/", 5) == 0) {
    // A new response (after a redirect or a 100 Continue): its headers and body start afresh.
    slot->header_bytes = 0;
    slot->body.clear();
    slot->body_started = false;
    curl_easy_getinfo(slot->easy.get(), CURLINFO_SIZE_DOWNLOAD_T, &slot->response_start);
    // libcurl follows a 305 like any redirect, but it names a proxy to use, which a supplier's
    // server has no business choosing.
    const std::string_view line(data, n);
    const auto space = line.find(' ');
    const auto code = space == std::string_view::npos ? std::string_view() : line.substr(space + 1, 4);
    if (code.substr(0, 3) == "305" && (code.size() == 3 || code[3] < '0' || code[3] > '9')) {
      slot->refused = "HTTP 305 (Use Proxy) is not followed";
      return 0;
    }
  }
  slot->header_bytes += n;
  if (slot->header_bytes > slot->loop->policy_.max_header_bytes) {
    slot->headers_too_large = true;
    return 0;
  }
  return n;
}

// libcurl reads and drops the body of a redirect it follows without calling on_body, so only the
// byte count seen here bounds it.
int HttpFetcher::Loop::on_progress(void* slot_ptr, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* slot = static_cast<Slot*>(slot_ptr);
  const auto limit = static_cast<curl_off_t>(slot->loop->policy_.max_body_bytes);
  if (dlnow - slot->response_start > limit) {
    slot->body_too_large = true;
    return 1;
  }
  return 0;
}

std::size_t HttpFetcher::Loop::on_body(char* data, std::size_t size, std::size_t count, void* slot_ptr) {
  auto* slot = static_cast<Slot*>(slot_ptr);
  Loop& loop = *slot->loop;
  const std::size_t n = size * count;
  CURL* easy = slot->easy.get();
  if (!slot->body_started) {
    slot->body_started = true;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      // Refuse a wrong content type before its body is downloaded; the bytes are sniffed later anyway.
      const auto& allowed = loop.settings_->allowed_types;
      if (!allowed.empty()) {
        char* content_type = nullptr;
        curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
        auto type = content_type != nullptr ? media_type(content_type) : std::string();
        if (std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
          slot->refused_type = type.empty() ? "(none)" : type;
          return CURL_WRITEFUNC_ERROR;
        }
      }
      slot->refused = head_problem(easy);
      if (!slot->refused.empty()) return CURL_WRITEFUNC_ERROR;
      curl_off_t length = -1;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length > 0) {
        slot->body.reserve(std::min(static_cast<std::size_t>(length), loop.policy_.max_body_bytes));
      }
    }
  }
  // CURLOPT_MAXFILESIZE_LARGE only sees a Content-Length; chunked and endless bodies stop here.
  if (slot->body.size() + n > loop.policy_.max_body_bytes) {
    slot->body_too_large = true;
    return CURL_WRITEFUNC_ERROR;
  }
  slot->body.append(data, n);
  loop.bytes_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

curl_socket_t HttpFetcher::Loop::on_open_socket(void* slot_ptr, curlsocktype purpose, curl_sockaddr* address) {
  auto* slot = static_cast<Slot*>(slot_ptr);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  // Runs for every new connection, redirect hops included, with the address actually dialled, so a
  // DNS answer that changes between checks cannot slip through. Reused connections were checked
  // when they were opened.
  const auto verdict = slot->loop->settings_->guard.check(&address->addr, address->addrlen);
  if (!verdict.allowed) {
    if (slot->blocked.empty()) {
      slot->blocked = "blocked address " + verdict.address + " (" + std::string(describe(verdict.kind)) + ")";
    }
    return CURL_SOCKET_BAD;
  }
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  return fd < 0 ? CURL_SOCKET_BAD : fd;
}

// ---- the I/O thread ----

void HttpFetcher::Loop::run() {
  std::vector<epoll_event> events(std::clamp<std::size_t>(pool_size_ + 1, 16, 1024));
  for (;;) {
    if (!take_control()) break;
    promote_due_retries(Clock::now());
    {
      std::vector<Delivery> failures;
      dispatch(failures);
      publish_gauges();
      deliver(failures);
    }
    const int timeout = wait_timeout_ms(Clock::now());
    const int ready = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
    int running = 0;
    for (int i = 0; i < ready; ++i) {
      const auto& event = events[static_cast<std::size_t>(i)];
      if (event.data.fd == wake_.get()) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto got = ::read(wake_.get(), &count, sizeof count);
        continue;
      }
      int flags = 0;
      if (event.events & (EPOLLIN | EPOLLHUP)) flags |= CURL_CSELECT_IN;
      if (event.events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (event.events & EPOLLERR) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_.get(), event.data.fd, flags, &running);
    }
    if (curl_deadline_ && Clock::now() >= *curl_deadline_) {
      // Like a one-shot timerfd: the expired timer is gone; curl sets the next one from inside.
      curl_deadline_.reset();
      curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collect_finished();
  }
  publish_gauges();
  for (auto& slot : slots_) {
    if (slot->task != nullptr) curl_multi_remove_handle(multi_.get(), slot->easy.get());
  }
  slots_.clear();
  multi_.reset();
}

bool HttpFetcher::Loop::take_control() {
  std::vector<Submission> incoming;
  std::uint64_t abort_limit = 0;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    incoming.swap(incoming_);
    abort_limit = abort_requested_;
    stopping = stopping_;
  }
  std::vector<Delivery> out;
  const bool aborting = abort_limit > abort_handled_;
  if (aborting) abort_tasks(out);
  for (auto& submission : incoming) {
    if (submission.seq < abort_limit) {
      Delivery delivery;
      delivery.done = std::move(submission.done);
      delivery.result.status = FetchResult::Status::aborted;
      delivery.result.error = "aborted";
      delivery.result.url = std::move(submission.job.url);
      delivery.result.user = submission.job.user;
      out.push_back(std::move(delivery));
    } else {
      accept(std::move(submission), out);
    }
  }
  publish_gauges();
  deliver(out);
  if (aborting) {
    abort_handled_ = abort_limit;
    {
      std::lock_guard lock(mutex_);
      abort_done_ = std::max(abort_done_, abort_limit);
    }
    abort_done_cv_.notify_all();
  }
  if (stopping) {
    bool drained = false;
    {
      std::lock_guard lock(mutex_);
      // Callbacks that ran above may have submitted more; those get aborted on the next pass.
      if (incoming_.empty()) {
        closed_ = true;
        drained = true;
      }
    }
    if (drained) {
      abort_done_cv_.notify_all();
      return false;
    }
  }
  return true;
}

void HttpFetcher::Loop::accept(Submission&& submission, std::vector<Delivery>& out) {
  auto it = tasks_.find(submission.key);
  if (it != tasks_.end()) {
    it->second->waiters.push_back(Waiter{submission.seq, submission.job.user, std::move(submission.done)});
    shared_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto fail = [&](std::string error) {
    Delivery delivery;
    delivery.done = std::move(submission.done);
    delivery.result.status = FetchResult::Status::failed;
    delivery.result.error = std::move(error);
    delivery.result.url = std::move(submission.job.url);
    delivery.result.user = submission.job.user;
    out.push_back(std::move(delivery));
  };
  const FetchJob& job = submission.job;
  if (has_line_break(job.url) || has_line_break(job.etag) || has_line_break(job.last_modified)) {
    fail("invalid request: line break in URL or conditional header");
    return;
  }
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) {
    fail("out of memory");
    return;
  }
  const CURLUcode parsed = curl_url_set(url.get(), CURLUPART_URL, job.url.c_str(), 0);
  if (parsed != CURLUE_OK) {
    fail("invalid URL: " + std::string(curl_url_strerror(parsed)));
    return;
  }
  auto url_part = [&](CURLUPart part) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(url.get(), part, &value, CURLU_DEFAULT_PORT) != CURLUE_OK || value == nullptr) return std::nullopt;
    std::string text = lowercase(value);
    curl_free(value);
    return text;
  };
  const auto scheme = url_part(CURLUPART_SCHEME);
  if (!scheme || (*scheme != "http" && *scheme != "https")) {
    fail("unsupported URL scheme " + scheme.value_or("(none)") + " (only http and https)");
    return;
  }
  const auto host_name = url_part(CURLUPART_HOST);
  const auto port = url_part(CURLUPART_PORT);
  if (!host_name || !port) {
    fail("invalid URL: no host");
    return;
  }
  std::string host_key = *scheme + "://" + *host_name + ":" + *port;
  auto task = std::make_unique<Task>();
  task->key = std::move(submission.key);
  task->job = std::move(submission.job);
  task->waiters.push_back(Waiter{submission.seq, task->job.user, std::move(submission.done)});
  HostState& host = hosts_[host_key];
  ++host.refs;
  task->host = &host;
  task->host_key = std::move(host_key);
  ready_.push_back(task.get());
  const std::string& key = task->key;
  tasks_.emplace(key, std::move(task));
}

void HttpFetcher::Loop::abort_tasks(std::vector<Delivery>& out) {
  // Every waiter of every task was submitted before the abort request: take_control reads the
  // request and the incoming queue under one lock, so later submits are still in `incoming`.
  for (auto& [key, task] : tasks_) {
    for (auto& waiter : task->waiters) {
      Delivery delivery;
      delivery.done = std::move(waiter.done);
      delivery.result.status = FetchResult::Status::aborted;
      delivery.result.error = "aborted";
      delivery.result.url = task->job.url;
      delivery.result.attempts = task->attempts;
      delivery.result.user = waiter.user;
      out.push_back(std::move(delivery));
    }
    if (task->state == TaskState::running) {
      curl_multi_remove_handle(multi_.get(), task->slot->easy.get());
      release_slot(task.get());
    }
  }
  ready_.clear();
  unblocked_.clear();
  retry_heap_.clear();
  tasks_.clear();
  hosts_.clear();
}

void HttpFetcher::Loop::promote_due_retries(Clock::time_point now) {
  std::vector<Task*> due;
  while (!retry_heap_.empty() && retry_heap_.front().due <= now) {
    std::pop_heap(retry_heap_.begin(), retry_heap_.end(), RetryLater{});
    due.push_back(retry_heap_.back().task);
    retry_heap_.pop_back();
  }
  // Retries go ahead of fresh work: they are older, and their callers have waited longest.
  for (Task* task : due) task->state = TaskState::queued;
  ready_.insert(ready_.begin(), due.begin(), due.end());
}

HttpFetcher::Loop::Task* HttpFetcher::Loop::next_runnable() {
  for (;;) {
    if (!unblocked_.empty()) {
      HostState* host = unblocked_.front();
      unblocked_.pop_front();
      host->listed = false;
      if (host->active < per_host_ && !host->blocked.empty()) {
        Task* task = host->blocked.front();
        host->blocked.pop_front();
        if (!host->blocked.empty() && host->active + 1 < per_host_) {
          host->listed = true;
          unblocked_.push_back(host);
        }
        return task;
      }
      continue;
    }
    if (ready_.empty()) return nullptr;
    Task* task = ready_.front();
    ready_.pop_front();
    HostState* host = task->host;
    if (host->blocked.empty() && host->active < per_host_) return task;
    // Keep the host's own order: a job behind a blocked one of the same host waits behind it.
    host->blocked.push_back(task);
    if (host->active < per_host_ && !host->listed) {
      host->listed = true;
      unblocked_.push_back(host);
    }
  }
}

std::unique_ptr<HttpFetcher::Loop::Slot> HttpFetcher::Loop::make_slot() {
  auto slot = std::make_unique<Slot>();
  slot->loop = this;
  slot->easy.reset(curl_easy_init());
  if (!slot->easy) throw std::runtime_error("curl_easy_init failed");
  CURL* e = slot->easy.get();
  const FetchPolicy& p = policy_;
  Slot* s = slot.get();
  // Set once per handle; a job only changes CURLOPT_URL and CURLOPT_HTTPHEADER.
  const bool ok =
      curl_easy_setopt(e, CURLOPT_PRIVATE, s) == CURLE_OK && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(p.max_redirects)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_PROXY, p.proxy.c_str()) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p.connect_timeout_ms) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p.transfer_timeout_ms) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(p.max_body_bytes)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_BUFFERSIZE, curl_buffer_size) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_USERAGENT, p.user_agent.c_str()) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Loop::on_body) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_WRITEDATA, s) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Loop::on_header) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HEADERDATA, s) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &Loop::on_progress) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_XFERINFODATA, s) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Loop::on_open_socket) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->error) == CURLE_OK;
  if (!ok) throw std::runtime_error("curl_easy_setopt failed: this libcurl lacks an option the fetcher needs");
  return slot;
}

HttpFetcher::Loop::Slot* HttpFetcher::Loop::acquire_slot() {
  if (!free_slots_.empty()) {
    Slot* slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  if (slots_.size() >= pool_size_) return nullptr;
  try {
    slots_.push_back(make_slot());
  } catch (const std::runtime_error&) {
    return nullptr;
  }
  return slots_.back().get();
}

void HttpFetcher::Loop::dispatch(std::vector<Delivery>& out) {
  while (running_ < pool_size_) {
    Task* task = next_runnable();
    if (task == nullptr) return;
    Slot* slot = acquire_slot();
    if (slot == nullptr || !start(task, slot)) {
      if (slot != nullptr) free_slots_.push_back(slot);
      FetchResult result;
      result.status = FetchResult::Status::failed;
      result.error = "could not start the transfer (out of memory or handles)";
      result.attempts = task->attempts;
      complete(task, std::move(result), out);
    }
  }
}

bool HttpFetcher::Loop::start(Task* task, Slot* slot) {
  HeaderList headers;
  auto add = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return false;
    static_cast<void>(headers.release());
    headers.reset(grown);
    return true;
  };
  if (!add(settings_->accept_header)) return false;
  if (!task->job.etag.empty() && !add("If-None-Match: " + task->job.etag)) return false;
  if (!task->job.last_modified.empty() && !add("If-Modified-Since: " + task->job.last_modified)) return false;
  CURL* easy = slot->easy.get();
  slot->body = std::string();
  slot->header_bytes = 0;
  slot->body_started = false;
  slot->body_too_large = false;
  slot->headers_too_large = false;
  slot->refused_type.clear();
  slot->refused.clear();
  slot->response_start = 0;
  slot->blocked.clear();
  slot->error[0] = '\0';
  if (curl_easy_setopt(easy, CURLOPT_URL, task->job.url.c_str()) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get()) != CURLE_OK) {
    return false;
  }
  slot->headers = std::move(headers);
  // Added only now, so CURLOPT_TIMEOUT_MS (which libcurl counts from the add) never runs while queued.
  if (curl_multi_add_handle(multi_.get(), easy) != CURLM_OK) return false;
  slot->task = task;
  task->slot = slot;
  task->state = TaskState::running;
  ++task->attempts;
  ++task->host->active;
  ++running_;
  return true;
}

// The handle is already out of the multi handle; the transfer gives back its handle and host slot.
void HttpFetcher::Loop::release_slot(Task* task) {
  Slot* slot = task->slot;
  slot->task = nullptr;
  slot->headers.reset();
  free_slots_.push_back(slot);
  task->slot = nullptr;
  --running_;
  HostState* host = task->host;
  --host->active;
  if (!host->blocked.empty() && !host->listed) {
    host->listed = true;
    unblocked_.push_back(host);
  }
}

void HttpFetcher::Loop::collect_finished() {
  std::vector<Delivery> out;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    // Read before curl_multi_remove_handle: the message is freed with it.
    const CURLcode code = message->data.result;
    Slot* slot = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
    finish_attempt(slot, code, out);
  }
  // The freed handles take queued transfers before any callback runs: no slot waits a loop pass.
  dispatch(out);
  // Before the callbacks, so that a caller woken by one sees counters that include it.
  publish_gauges();
  deliver(out);
}

long HttpFetcher::Loop::backoff_ms(int attempts) {
  // Full jitter: uniform in [0, min(max, initial * 2^(attempts-1))].
  long ceiling = std::max(0L, policy_.backoff_initial_ms);
  for (int i = 1; i < attempts && ceiling < policy_.backoff_max_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, std::max(0L, policy_.backoff_max_ms));
  return std::uniform_int_distribution<long>(0, ceiling)(rng_);
}

void HttpFetcher::Loop::finish_attempt(Slot* slot, CURLcode code, std::vector<Delivery>& out) {
  Task* task = slot->task;
  CURL* easy = slot->easy.get();
  FetchResult result;
  result.curl_code = static_cast<int>(code);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.http_status);
  curl_off_t retry_after = 0;
  curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
  if (char* value = nullptr; curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &value) == CURLE_OK && value) {
    result.effective_url = value;
  }
  if (char* value = nullptr; curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &value) == CURLE_OK && value) {
    result.content_type = value;
  }
  // A request went out (on a new or a reused connection) once the pre-transfer phase ended; a timeout
  // before that was spent connecting.
  curl_off_t pretransfer_time = 0;
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_time);
  curl_header* header = nullptr;
  if (curl_easy_header(easy, "ETag", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) result.etag = header->value;
  if (curl_easy_header(easy, "Last-Modified", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
    result.last_modified = header->value;
  }
  // Read while the response's headers are certainly still with the handle.
  std::string head =
      code == CURLE_OK && result.http_status >= 200 && result.http_status < 300 ? head_problem(easy) : std::string();
  curl_multi_remove_handle(multi_.get(), easy);
  release_slot(task);
  result.attempts = task->attempts;

  bool retry = false;
  const long status = result.http_status;
  if (code != CURLE_OK && !slot->refused.empty()) {
    result.error = slot->refused;
  } else if (code != CURLE_OK) {
    if (!slot->blocked.empty() && code == CURLE_COULDNT_CONNECT) {
      result.error = slot->blocked;
    } else if (slot->body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
      result.error = "body exceeds " + std::to_string(policy_.max_body_bytes) + " bytes";
    } else if (slot->headers_too_large || (code == CURLE_OUT_OF_MEMORY && !slot->body_started)) {
      // libcurl fails a single header line longer than CURL_MAX_HTTP_HEADER with "out of memory"
      // before on_header sees it.
      result.error = policy_.max_header_bytes < CURL_MAX_HTTP_HEADER || slot->headers_too_large
                         ? "response headers exceed " + std::to_string(policy_.max_header_bytes) + " bytes"
                         : "a response header line exceeds " + std::to_string(CURL_MAX_HTTP_HEADER) + " bytes";
    } else if (!slot->refused_type.empty()) {
      result.error = "content type " + slot->refused_type + " is not allowed";
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      result.error = pretransfer_time == 0
                         ? "connect timeout after " + std::to_string(policy_.connect_timeout_ms) + " ms"
                         : "timeout after " + std::to_string(policy_.transfer_timeout_ms) + " ms";
      retry = true;
    } else if (code == CURLE_TOO_MANY_REDIRECTS) {
      result.error = "too many redirects (more than " + std::to_string(policy_.max_redirects) + ")";
    } else {
      result.error = "curl error " + std::to_string(static_cast<int>(code)) + ": " +
                     (slot->error[0] != '\0' ? std::string(slot->error) : std::string(curl_easy_strerror(code)));
      retry = retryable_curl_code(code);
    }
  } else if (status == 304) {
    result.status = FetchResult::Status::not_modified;
  } else if (status >= 200 && status < 300) {
    const auto& allowed = settings_->allowed_types;
    const auto type = media_type(result.content_type);
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
      result.error = "content type " + (type.empty() ? std::string("(none)") : type) + " is not allowed";
    } else if (!head.empty()) {
      result.error = std::move(head);
    } else if (ImageCheck check = validate_image(slot->body); !check.ok()) {
      result.error = std::move(check.problem);
      // A body cut short by a closed connection may come whole next time.
      retry = check.truncated;
    } else {
      result.status = FetchResult::Status::ok;
      result.image = check.image;
      result.body = std::move(slot->body);
    }
  } else {
    result.error = "HTTP " + std::to_string(status);
    retry = status >= 500 || status == 429;
  }
  slot->body = std::string();

  if (retry && task->attempts < policy_.max_attempts) {
    long delay = backoff_ms(task->attempts);
    if (retry_after > 0) {
      const curl_off_t cap_seconds = policy_.retry_after_cap_ms / 1000 + 1;
      delay = std::min(static_cast<long>(std::min(retry_after, cap_seconds)) * 1000, policy_.retry_after_cap_ms);
    }
    task->state = TaskState::waiting;
    retry_heap_.push_back(RetryEntry{Clock::now() + std::chrono::milliseconds(delay), retry_order_++, task});
    std::push_heap(retry_heap_.begin(), retry_heap_.end(), RetryLater{});
    retries_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  complete(task, std::move(result), out);
}

void HttpFetcher::Loop::complete(Task* task, FetchResult&& result, std::vector<Delivery>& out) {
  result.url = task->job.url;
  auto& waiters = task->waiters;
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    Delivery delivery;
    delivery.done = std::move(waiters[i].done);
    delivery.result = i + 1 == waiters.size() ? std::move(result) : result;
    delivery.result.user = waiters[i].user;
    out.push_back(std::move(delivery));
  }
  waiters.clear();
  erase_task(task);
}

void HttpFetcher::Loop::erase_task(Task* task) {
  HostState* host = task->host;
  const std::string host_key = task->host_key;
  const std::string key = task->key;
  tasks_.erase(key);
  if (--host->refs == 0 && !host->listed) hosts_.erase(host_key);
}

void HttpFetcher::Loop::deliver(std::vector<Delivery>& deliveries) {
  for (auto& delivery : deliveries) {
    std::atomic<std::uint64_t>* counter = &failed_;
    switch (delivery.result.status) {
      case FetchResult::Status::ok:
        counter = &ok_;
        break;
      case FetchResult::Status::not_modified:
        counter = &not_modified_;
        break;
      case FetchResult::Status::failed:
        counter = &failed_;
        break;
      case FetchResult::Status::aborted:
        counter = &aborted_;
        break;
    }
    counter->fetch_add(1, std::memory_order_relaxed);
    completed_.fetch_add(1, std::memory_order_relaxed);
    // Moved out first so that the callback's captures die here, whatever the callback does.
    FetchCallback done = std::move(delivery.done);
    try {
      done(std::move(delivery.result));
    } catch (...) {
      callback_exceptions_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  deliveries.clear();
}

int HttpFetcher::Loop::wait_timeout_ms(Clock::time_point now) const {
  std::optional<Clock::time_point> deadline = curl_deadline_;
  if (!retry_heap_.empty() && (!deadline || retry_heap_.front().due < *deadline)) deadline = retry_heap_.front().due;
  if (!deadline) return -1;
  if (*deadline <= now) return 0;
  // Rounded up: a truncated timeout wakes the loop just before the deadline, finds nothing due
  // and spins until it passes.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
  return static_cast<int>(std::min<long long>(wait, INT_MAX));
}

void HttpFetcher::Loop::publish_gauges() {
  in_flight_.store(running_, std::memory_order_relaxed);
  waiting_retry_.store(retry_heap_.size(), std::memory_order_relaxed);
  queued_.store(tasks_.size() - running_ - retry_heap_.size(), std::memory_order_relaxed);
}

// ---- HttpFetcher ----

namespace {

void validate(const FetchPolicy& p) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("FetchPolicy: ") + what);
  };
  require(p.max_in_flight >= 1, "max_in_flight must be at least 1");
  require(p.io_threads >= 1, "io_threads must be at least 1");
  require(p.connect_timeout_ms > 0, "connect_timeout_ms must be positive");
  require(p.transfer_timeout_ms > 0, "transfer_timeout_ms must be positive");
  require(p.max_body_bytes > 0, "max_body_bytes must be positive");
  require(p.max_header_bytes > 0, "max_header_bytes must be positive");
  require(p.max_redirects >= 0, "max_redirects must not be negative");
  require(p.max_attempts >= 1, "max_attempts must be at least 1");
  require(p.backoff_initial_ms >= 0 && p.backoff_max_ms >= 0, "backoff times must not be negative");
  require(p.retry_after_cap_ms >= 0, "retry_after_cap_ms must not be negative");
  require(!has_line_break(p.user_agent) && !has_line_break(p.proxy), "line break in user_agent or proxy");
  for (const auto& type : p.allowed_content_types) require(!has_line_break(type), "line break in a content type");
}

}  // namespace

HttpFetcher::HttpFetcher(FetchPolicy policy) : policy_(std::move(policy)) {
  validate(policy_);
  auto settings = std::make_shared<Settings>();
  settings->policy = policy_;
  settings->guard = AddressGuard(policy_.allow_networks);
  for (const auto& type : policy_.allowed_content_types) settings->allowed_types.push_back(media_type(type));
  settings->accept_header = "Accept: ";
  if (settings->allowed_types.empty()) {
    settings->accept_header += "*/*";
  } else {
    for (std::size_t i = 0; i < settings->allowed_types.size(); ++i) {
      settings->accept_header += (i == 0 ? "" : ",") + settings->allowed_types[i];
    }
  }

  const std::size_t total = policy_.max_in_flight;
  const std::size_t per_host_total = policy_.max_per_host == 0 ? total : std::min(policy_.max_per_host, total);
  // Each loop gets a share of both caps; fewer loops than io_threads when a cap is smaller.
  const std::size_t count = std::min({policy_.io_threads, total, per_host_total});
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t pool = total / count + (i < total % count ? 1 : 0);
    const std::size_t per_host = per_host_total / count + (i < per_host_total % count ? 1 : 0);
    loops_.push_back(std::make_unique<Loop>(settings, pool, per_host, policy_.random_seed + i));
  }
}

HttpFetcher::~HttpFetcher() {
  for (auto& loop : loops_) loop->request_stop();
  loops_.clear();
}

void HttpFetcher::submit(FetchJob job, FetchCallback done) {
  if (!done) throw std::invalid_argument("HttpFetcher::submit: empty callback");
  std::string key = request_key(job);
  // Sharding by request key keeps identical requests on one loop, where they can share a transfer.
  const std::size_t index = loops_.size() == 1 ? 0 : std::hash<std::string>{}(key) % loops_.size();
  loops_[index]->submit(std::move(key), std::move(job), std::move(done));
}

void HttpFetcher::abort_all() {
  std::vector<std::uint64_t> targets;
  targets.reserve(loops_.size());
  bool from_callback = false;
  for (auto& loop : loops_) {
    targets.push_back(loop->request_abort());
    from_callback = from_callback || loop->on_io_thread();
  }
  // Waiting from a callback would wait for the very thread that runs it.
  if (from_callback) return;
  for (std::size_t i = 0; i < loops_.size(); ++i) loops_[i]->wait_for_abort(targets[i]);
}

FetchStats HttpFetcher::stats() const {
  FetchStats stats;
  for (const auto& loop : loops_) loop->add_stats(stats);
  return stats;
}

}  // namespace sluice
