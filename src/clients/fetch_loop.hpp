// One I/O thread of the fetcher: a libcurl multi handle driven by epoll, its pool of transfer slots,
// the queue of transfers waiting for one, and the hand-back of results to the submitters' callbacks.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "clients/curl_handles.hpp"
#include "clients/fetch_queue.hpp"
#include "clients/fetch_settings.hpp"
#include "clients/http_fetcher.hpp"
#include "clients/transfer_slot.hpp"

namespace sluice {

class FetchLoop {
 public:
  // pool_size: transfers at once on this thread; per_host: of them, to one host.
  // per_host_rate: of the host's requests, how many this thread may start per second (0: no limit).
  FetchLoop(std::shared_ptr<const FetchSettings> settings, std::size_t pool_size, std::size_t per_host,
            double per_host_rate, std::uint64_t seed);
  ~FetchLoop();
  FetchLoop(const FetchLoop&) = delete;
  FetchLoop& operator=(const FetchLoop&) = delete;

  // key: requests with equal keys pending at once share one transfer.
  void submit(std::string key, FetchJob job, FetchCallback done);
  std::uint64_t request_abort();
  void wait_for_abort(std::uint64_t target);
  void request_stop();
  bool on_io_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  void add_stats(FetchStats& stats) const;

 private:
  using Clock = std::chrono::steady_clock;

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
  struct Task : QueueEntry {
    std::string key;
    FetchJob job;
    std::vector<Waiter> waiters;
    int attempts = 0;
    int fallbacks = 0;             // a check's GET after HEAD failed: a request, but not a retry
    TransferSlot* slot = nullptr;  // while an attempt runs
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* loop);

  void run();
  bool take_control();
  void accept(Submission&& submission, std::vector<Delivery>& out);
  void abort_tasks(std::vector<Delivery>& out);
  void dispatch(std::vector<Delivery>& out);
  TransferSlot* acquire_slot();
  bool start(Task* task, TransferSlot* slot);
  void release_slot(Task* task);
  void collect_finished();
  void finish_attempt(TransferSlot* slot, CURLcode code, std::vector<Delivery>& out);
  void finish_check(TransferSlot* slot, Task* task, CheckVerdict verdict, FetchResult&& result, long long retry_after_s,
                    std::vector<Delivery>& out);
  void complete(Task* task, FetchResult&& result, std::vector<Delivery>& out);
  void erase_task(Task* task);
  // A result no transfer gave: the job was aborted, or refused before it could start.
  static Delivery without_transfer(FetchCallback done, FetchResult::Status status, std::string error, std::string url,
                                   void* user);
  void deliver(std::vector<Delivery>& deliveries);
  int wait_timeout_ms(Clock::time_point now) const;
  void publish_gauges();
  void wake();

  const std::shared_ptr<const FetchSettings> settings_;
  const FetchPolicy& policy_;
  const std::size_t pool_size_;
  CurlGlobal curl_global_;

  // Owned by the I/O thread once it runs.
  MultiHandle multi_;
  FileDescriptor epoll_;
  FileDescriptor wake_;
  std::vector<std::unique_ptr<TransferSlot>> slots_;
  std::vector<TransferSlot*> free_slots_;
  std::size_t running_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Task>> tasks_;
  FetchQueue queue_;
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

}  // namespace sluice
