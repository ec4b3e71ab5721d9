// Helpers for the HttpFetcher tests: a loopback policy and a thread-safe collector of callbacks.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "clients/http_fetcher.hpp"

namespace sluice::test {

// Loopback explicitly allowed, short backoff so that retry tests stay fast.
inline FetchPolicy loopback_policy() {
  FetchPolicy policy;
  policy.allow_networks = {"127.0.0.1/32"};
  policy.backoff_initial_ms = 20;
  policy.backoff_max_ms = 100;
  policy.connect_timeout_ms = 2000;
  policy.transfer_timeout_ms = 10000;
  return policy;
}

// Counts callbacks per job index, so a missing or doubled callback shows up.
class Collector {
 public:
  FetchCallback callback(std::size_t index) {
    return [this, index](FetchResult&& result) {
      std::lock_guard lock(mutex_);
      ++calls_[index];
      results_[index] = std::move(result);
      ++total_;
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return total_ >= count; });
  }
  std::size_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  int calls(std::size_t index) const {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(index);
    return it == calls_.end() ? 0 : it->second;
  }
  FetchResult result(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return results_.at(index);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::size_t, int> calls_;
  std::map<std::size_t, FetchResult> results_;
  std::size_t total_ = 0;
};

// Submits one job and waits for its result (fails the test after `timeout`).
inline FetchResult fetch_one(HttpFetcher& fetcher, FetchJob job,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
  auto promise = std::make_shared<std::promise<FetchResult>>();
  auto future = promise->get_future();
  fetcher.submit(std::move(job), [promise](FetchResult&& result) { promise->set_value(std::move(result)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "no callback within " << timeout.count() << " ms";
    FetchResult missing;
    missing.error = "test timeout";
    return missing;
  }
  return future.get();
}

inline FetchResult fetch_one(HttpFetcher& fetcher, const std::string& url) {
  return fetch_one(fetcher, FetchJob{url, "", "", nullptr});
}

}  // namespace sluice::test
