// The transfers waiting for a handle, with per-host limits, and the retries waiting for their time.
#include "clients/fetch_queue.hpp"

#include <algorithm>

namespace sluice {

FetchQueue::FetchQueue(std::size_t per_host, double per_host_rate) : per_host_(per_host) {
  if (per_host_rate > 0)
    interval_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / per_host_rate));
}

bool FetchQueue::paced(QueuedHost* host, Clock::time_point now) {
  if (interval_ == Clock::duration::zero() || host->next_start <= now) return false;
  if (!host->pacing) {
    host->pacing = true;
    pace_heap_.push_back(PaceWake{host->next_start, host});
    std::push_heap(pace_heap_.begin(), pace_heap_.end(), PaceLater{});
  }
  return true;
}

void FetchQueue::forget_if_unused(QueuedHost* host) {
  if (host->refs == 0 && !host->listed && !host->pacing) hosts_.erase(std::string(host->key));  // a copy: the key dies with the host
}

void FetchQueue::add(QueueEntry* entry, const std::string& host_key) {
  auto [it, fresh] = hosts_.try_emplace(host_key);
  if (fresh) it->second.key = host_key;
  ++it->second.refs;
  entry->host = &it->second;
  ready_.push_back(entry);
}

QueueEntry* FetchQueue::next(Clock::time_point now) {
  // The start an entry is given spaces the host's next one by the rate limit's interval.
  auto take = [&](QueueEntry* entry) {
    QueuedHost* host = entry->host;
    if (interval_ != Clock::duration::zero()) host->next_start = std::max(host->next_start, now) + interval_;
    return entry;
  };
  for (;;) {
    if (!unblocked_.empty()) {
      QueuedHost* host = unblocked_.front();
      unblocked_.pop_front();
      host->listed = false;
      if (host->active < per_host_ && !host->blocked.empty() && !paced(host, now)) {
        QueueEntry* entry = host->blocked.front();
        host->blocked.pop_front();
        if (!host->blocked.empty() && host->active + 1 < per_host_) {
          host->listed = true;
          unblocked_.push_back(host);
        }
        return take(entry);
      }
      forget_if_unused(host);
      continue;
    }
    if (ready_.empty()) return nullptr;
    QueueEntry* entry = ready_.front();
    ready_.pop_front();
    QueuedHost* host = entry->host;
    if (host->blocked.empty() && host->active < per_host_ && !paced(host, now)) return take(entry);
    // Keep the host's own order: an entry behind a blocked one of the same host waits behind it.
    host->blocked.push_back(entry);
    if (host->active < per_host_ && !host->listed && !host->pacing) {
      host->listed = true;
      unblocked_.push_back(host);
    }
  }
}

void FetchQueue::started(QueueEntry* entry) { ++entry->host->active; }

void FetchQueue::stopped(QueueEntry* entry) {
  QueuedHost* host = entry->host;
  --host->active;
  if (!host->blocked.empty() && !host->listed && !host->pacing) {
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
  while (!pace_heap_.empty() && pace_heap_.front().due <= now) {
    std::pop_heap(pace_heap_.begin(), pace_heap_.end(), PaceLater{});
    QueuedHost* host = pace_heap_.back().host;
    pace_heap_.pop_back();
    host->pacing = false;
    if (!host->blocked.empty() && !host->listed) {
      host->listed = true;
      unblocked_.push_back(host);
    }
    forget_if_unused(host);
  }
}

std::optional<FetchQueue::Clock::time_point> FetchQueue::next_due() const {
  std::optional<Clock::time_point> due;
  if (!retry_heap_.empty()) due = retry_heap_.front().due;
  if (!pace_heap_.empty() && (!due || pace_heap_.front().due < *due)) due = pace_heap_.front().due;
  return due;
}

void FetchQueue::remove(QueueEntry* entry) {
  QueuedHost* host = entry->host;
  entry->host = nullptr;
  // A listed or pacing host is still named by unblocked_ or the pace heap; it is forgotten when it
  // comes up there.
  --host->refs;
  forget_if_unused(host);
}

void FetchQueue::clear() {
  ready_.clear();
  unblocked_.clear();
  retry_heap_.clear();
  pace_heap_.clear();
  hosts_.clear();
}

}  // namespace sluice
