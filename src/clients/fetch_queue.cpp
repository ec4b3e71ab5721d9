// The transfers waiting for a handle, with per-host limits, and the retries waiting for their time.
#include "clients/fetch_queue.hpp"

#include <algorithm>

namespace sluice {

void FetchQueue::add(QueueEntry* entry, const std::string& host_key) {
  auto [it, fresh] = hosts_.try_emplace(host_key);
  if (fresh) it->second.key = host_key;
  ++it->second.refs;
  entry->host = &it->second;
  ready_.push_back(entry);
}

QueueEntry* FetchQueue::next() {
  for (;;) {
    if (!unblocked_.empty()) {
      QueuedHost* host = unblocked_.front();
      unblocked_.pop_front();
      host->listed = false;
      if (host->active < per_host_ && !host->blocked.empty()) {
        QueueEntry* entry = host->blocked.front();
        host->blocked.pop_front();
        if (!host->blocked.empty() && host->active + 1 < per_host_) {
          host->listed = true;
          unblocked_.push_back(host);
        }
        return entry;
      }
      if (host->refs == 0) hosts_.erase(std::string(host->key));  // a copy: the key dies with the host
      continue;
    }
    if (ready_.empty()) return nullptr;
    QueueEntry* entry = ready_.front();
    ready_.pop_front();
    QueuedHost* host = entry->host;
    if (host->blocked.empty() && host->active < per_host_) return entry;
    // Keep the host's own order: an entry behind a blocked one of the same host waits behind it.
    host->blocked.push_back(entry);
    if (host->active < per_host_ && !host->listed) {
      host->listed = true;
      unblocked_.push_back(host);
    }
  }
}

void FetchQueue::started(QueueEntry* entry) { ++entry->host->active; }

void FetchQueue::stopped(QueueEntry* entry) {
  QueuedHost* host = entry->host;
  --host->active;
  if (!host->blocked.empty() && !host->listed) {
    host->listed = true;
    unblocked_.push_back(host);
  }
}

void FetchQueue::retry_at(QueueEntry* entry, Clock::time_point due) {
  retry_heap_.push_back(Sleeper{due, retry_order_++, entry});
  std::push_heap(retry_heap_.begin(), retry_heap_.end(), WakesLater{});
}

void FetchQueue::promote_due(Clock::time_point now) {
  std::vector<QueueEntry*> due;
  while (!retry_heap_.empty() && retry_heap_.front().due <= now) {
    std::pop_heap(retry_heap_.begin(), retry_heap_.end(), WakesLater{});
    due.push_back(retry_heap_.back().entry);
    retry_heap_.pop_back();
  }
  ready_.insert(ready_.begin(), due.begin(), due.end());
}

std::optional<FetchQueue::Clock::time_point> FetchQueue::next_due() const {
  if (retry_heap_.empty()) return std::nullopt;
  return retry_heap_.front().due;
}

void FetchQueue::remove(QueueEntry* entry) {
  QueuedHost* host = entry->host;
  entry->host = nullptr;
  // A listed host is still named by unblocked_; next() forgets it when it comes up.
  if (--host->refs == 0 && !host->listed) hosts_.erase(std::string(host->key));
}

void FetchQueue::clear() {
  ready_.clear();
  unblocked_.clear();
  retry_heap_.clear();
  hosts_.clear();
}

}  // namespace sluice
