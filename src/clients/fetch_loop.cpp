// One I/O thread of the fetcher: libcurl's multi_socket interface on epoll, with an eventfd to wake it.
#include "clients/fetch_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "clients/fetch_response.hpp"
#include "clients/fetch_retry.hpp"

namespace sluice {

FetchLoop::FetchLoop(std::shared_ptr<const FetchSettings> settings, std::size_t pool_size, std::size_t per_host,
                     double per_host_rate, std::uint64_t seed)
    : settings_(std::move(settings)),
      policy_(settings_->policy),
      pool_size_(pool_size),
      multi_(curl_multi_init()),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      queue_(per_host, per_host_rate),
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
  bool ok = curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &FetchLoop::on_socket) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &FetchLoop::on_timer) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, pool) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(per_host)) == CURLM_OK &&
            curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, pool) == CURLM_OK;
  if (!ok) throw std::runtime_error("curl_multi_setopt failed");
  // Made here rather than lazily so that an option this libcurl rejects fails the constructor.
  slots_.push_back(std::make_unique<TransferSlot>(*settings_, bytes_));
  free_slots_.push_back(slots_.back().get());
  thread_ = std::thread([this] { run(); });
}

FetchLoop::~FetchLoop() {
  request_stop();
  thread_.join();
}

void FetchLoop::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abort_requested_ = std::numeric_limits<std::uint64_t>::max();
  }
  wake();
}

void FetchLoop::wake() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero, which wakes the loop just as well.
  [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
}

void FetchLoop::submit(std::string key, FetchJob job, FetchCallback done) {
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
    std::vector<Delivery> late;
    late.push_back(without_transfer(std::move(submission.done), FetchResult::Status::aborted, "aborted",
                                    std::move(submission.job.url), submission.job.user));
    deliver(late);
    return;
  }
  // A non-empty queue means a wake-up is already pending and the loop has not yet taken the queue.
  if (was_empty) wake();
}

std::uint64_t FetchLoop::request_abort() {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    abort_requested_ = std::max(abort_requested_, next_seq_);
    target = next_seq_;
  }
  wake();
  return target;
}

void FetchLoop::wait_for_abort(std::uint64_t target) {
  std::unique_lock lock(mutex_);
  abort_done_cv_.wait(lock, [&] { return abort_done_ >= target || closed_; });
}

void FetchLoop::add_stats(FetchStats& stats) const {
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

int FetchLoop::on_socket(CURL*, curl_socket_t fd, int what, void* loop_ptr, void* socket_data) {
  auto* loop = static_cast<FetchLoop*>(loop_ptr);
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

int FetchLoop::on_timer(CURLM*, long timeout_ms, void* loop_ptr) {
  auto* loop = static_cast<FetchLoop*>(loop_ptr);
  if (timeout_ms < 0) {
    loop->curl_deadline_.reset();
  } else {
    loop->curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

// ---- the I/O thread ----

void FetchLoop::run() {
  std::vector<epoll_event> events(std::clamp<std::size_t>(pool_size_ + 1, 16, 1024));
  for (;;) {
    if (!take_control()) break;
    queue_.promote_due(Clock::now());
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
    if (slot->owner() != nullptr) curl_multi_remove_handle(multi_.get(), slot->easy());
  }
  slots_.clear();
  multi_.reset();
}

bool FetchLoop::take_control() {
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
      out.push_back(without_transfer(std::move(submission.done), FetchResult::Status::aborted, "aborted",
                                     std::move(submission.job.url), submission.job.user));
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

void FetchLoop::accept(Submission&& submission, std::vector<Delivery>& out) {
  auto it = tasks_.find(submission.key);
  if (it != tasks_.end()) {
    it->second->waiters.push_back(Waiter{submission.seq, submission.job.user, std::move(submission.done)});
    shared_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto fail = [&](std::string error) {
    out.push_back(without_transfer(std::move(submission.done), FetchResult::Status::failed, std::move(error),
                                   std::move(submission.job.url), submission.job.user));
    out.back().result.probe.outcome = CheckOutcome::invalid_url;
  };
  const FetchJob& job = submission.job;
  if (has_line_break(job.url) || has_line_break(job.etag) || has_line_break(job.last_modified)) {
    fail("invalid request: line break in URL or conditional header");
    return;
  }
  UrlHandle url(curl_url());
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
  auto task = std::make_unique<Task>();
  task->key = std::move(submission.key);
  task->job = std::move(submission.job);
  task->waiters.push_back(Waiter{submission.seq, task->job.user, std::move(submission.done)});
  queue_.add(task.get(), *scheme + "://" + *host_name + ":" + *port);
  const std::string& key = task->key;
  tasks_.emplace(key, std::move(task));
}

void FetchLoop::abort_tasks(std::vector<Delivery>& out) {
  // Every waiter of every task was submitted before the abort request: take_control reads the
  // request and the incoming queue under one lock, so later submits are still in `incoming`.
  for (auto& [key, task] : tasks_) {
    for (auto& waiter : task->waiters) {
      out.push_back(without_transfer(std::move(waiter.done), FetchResult::Status::aborted, "aborted", task->job.url,
                                     waiter.user));
      out.back().result.attempts = task->attempts;
    }
    if (task->slot != nullptr) {
      curl_multi_remove_handle(multi_.get(), task->slot->easy());
      release_slot(task.get());
    }
  }
  queue_.clear();
  tasks_.clear();
}

TransferSlot* FetchLoop::acquire_slot() {
  if (!free_slots_.empty()) {
    TransferSlot* slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  if (slots_.size() >= pool_size_) return nullptr;
  try {
    slots_.push_back(std::make_unique<TransferSlot>(*settings_, bytes_));
  } catch (const std::runtime_error&) {
    return nullptr;
  }
  return slots_.back().get();
}

void FetchLoop::dispatch(std::vector<Delivery>& out) {
  const auto now = Clock::now();
  while (running_ < pool_size_) {
    auto* task = static_cast<Task*>(queue_.next(now));
    if (task == nullptr) return;
    TransferSlot* slot = acquire_slot();
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

bool FetchLoop::start(Task* task, TransferSlot* slot) {
  if (!slot->prepare(task->job, task)) return false;
  // Added only now, so CURLOPT_TIMEOUT_MS (which libcurl counts from the add) never runs while queued.
  if (curl_multi_add_handle(multi_.get(), slot->easy()) != CURLM_OK) {
    slot->release();
    return false;
  }
  task->slot = slot;
  ++task->attempts;
  queue_.started(task);
  ++running_;
  return true;
}

// The handle is already out of the multi handle; the transfer gives back its handle and host slot.
void FetchLoop::release_slot(Task* task) {
  TransferSlot* slot = task->slot;
  slot->release();
  free_slots_.push_back(slot);
  task->slot = nullptr;
  --running_;
  queue_.stopped(task);
}

void FetchLoop::collect_finished() {
  std::vector<Delivery> out;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    // Read before curl_multi_remove_handle: the message is freed with it.
    const CURLcode code = message->data.result;
    finish_attempt(TransferSlot::of(message->easy_handle), code, out);
  }
  // The freed handles take queued transfers before any callback runs: no slot waits a loop pass.
  dispatch(out);
  // Before the callbacks, so that a caller woken by one sees counters that include it.
  publish_gauges();
  deliver(out);
}

void FetchLoop::finish_attempt(TransferSlot* slot, CURLcode code, std::vector<Delivery>& out) {
  auto* task = static_cast<Task*>(slot->owner());
  FetchResult result;
  long long retry_after_s = 0;
  if (policy_.purpose == FetchPurpose::check) {
    finish_check(slot, task, slot->conclude_check(code, result, retry_after_s), std::move(result), retry_after_s, out);
    return;
  }
  AttemptVerdict verdict = slot->conclude(code, result, retry_after_s);
  curl_multi_remove_handle(multi_.get(), slot->easy());
  release_slot(task);
  result.attempts = task->attempts;
  if (verdict.retry && task->attempts < policy_.max_attempts) {
    const long delay = retry_delay_ms(policy_, task->attempts, retry_after_s, rng_);
    queue_.retry_at(task, Clock::now() + std::chrono::milliseconds(delay));
    retries_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  result.status = verdict.status;
  result.error = std::move(verdict.error);
  result.image = verdict.image;
  complete(task, std::move(result), out);
}

void FetchLoop::finish_check(TransferSlot* slot, Task* task, CheckVerdict verdict, FetchResult&& result,
                             long long retry_after_s, std::vector<Delivery>& out) {
  curl_multi_remove_handle(multi_.get(), slot->easy());
  release_slot(task);
  result.attempts = task->attempts;
  if (verdict.try_ranged_get && !task->job.ranged_get) {
    // Asking again another way is not a retry: it goes at once and does not spend an attempt.
    task->job.ranged_get = true;
    ++task->fallbacks;
    queue_.retry_at(task, Clock::now());
    return;
  }
  if (verdict.retry && task->attempts - task->fallbacks < policy_.max_attempts) {
    const long delay = retry_delay_ms(policy_, task->attempts, retry_after_s, rng_);
    queue_.retry_at(task, Clock::now() + std::chrono::milliseconds(delay));
    retries_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  result.status = healthy(verdict.outcome) ? FetchResult::Status::ok : FetchResult::Status::failed;
  result.error = std::move(verdict.error);
  complete(task, std::move(result), out);
}

void FetchLoop::complete(Task* task, FetchResult&& result, std::vector<Delivery>& out) {
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

void FetchLoop::erase_task(Task* task) {
  queue_.remove(task);
  const std::string key = task->key;  // a copy: the key dies with the task
  tasks_.erase(key);
}

FetchLoop::Delivery FetchLoop::without_transfer(FetchCallback done, FetchResult::Status status, std::string error,
                                                std::string url, void* user) {
  Delivery delivery;
  delivery.done = std::move(done);
  delivery.result.status = status;
  delivery.result.error = std::move(error);
  delivery.result.url = std::move(url);
  delivery.result.user = user;
  return delivery;
}

void FetchLoop::deliver(std::vector<Delivery>& deliveries) {
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

int FetchLoop::wait_timeout_ms(Clock::time_point now) const {
  std::optional<Clock::time_point> deadline = curl_deadline_;
  if (auto due = queue_.next_due(); due && (!deadline || *due < *deadline)) deadline = due;
  if (!deadline) return -1;
  if (*deadline <= now) return 0;
  // Rounded up: a truncated timeout wakes the loop just before the deadline, finds nothing due
  // and spins until it passes.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
  return static_cast<int>(std::min<long long>(wait, INT_MAX));
}

void FetchLoop::publish_gauges() {
  in_flight_.store(running_, std::memory_order_relaxed);
  waiting_retry_.store(queue_.sleeping(), std::memory_order_relaxed);
  queued_.store(tasks_.size() - running_ - queue_.sleeping(), std::memory_order_relaxed);
}

}  // namespace sluice
