// HttpFetcher: submissions spread over one or more fetch loops, each an I/O thread of its own.
#include "clients/http_fetcher.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "clients/fetch_loop.hpp"
#include "clients/fetch_settings.hpp"

namespace sluice {
namespace {

// The dedup key: two jobs share a transfer only if they would send identical requests.
std::string request_key(const FetchJob& job) {
  std::string key;
  key.reserve(job.url.size() + job.etag.size() + job.last_modified.size() + 2);
  key.append(job.url).append(1, '\0').append(job.etag).append(1, '\0').append(job.last_modified);
  return key;
}

}  // namespace

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

HttpFetcher::HttpFetcher(FetchPolicy policy) : policy_(std::move(policy)) {
  auto settings = std::make_shared<const FetchSettings>(make_fetch_settings(policy_));
  const std::size_t total = policy_.max_in_flight;
  const std::size_t per_host_total = policy_.max_per_host == 0 ? total : std::min(policy_.max_per_host, total);
  // Each loop gets a share of both caps; fewer loops than io_threads when a cap is smaller.
  const std::size_t count = std::min({policy_.io_threads, total, per_host_total});
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t pool = total / count + (i < total % count ? 1 : 0);
    const std::size_t per_host = per_host_total / count + (i < per_host_total % count ? 1 : 0);
    // Requests are spread over the loops by URL, so each loop sees its share of every host's.
    const double rate = policy_.per_host_rate / static_cast<double>(count);
    loops_.push_back(std::make_unique<FetchLoop>(settings, pool, per_host, rate, policy_.random_seed + i));
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
