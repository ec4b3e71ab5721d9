// Image downloader on libcurl's multi_socket interface with its own I/O thread(s), bounded in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "clients/image_sniff.hpp"
#include "clients/url_probe.hpp"

namespace sluice {

class FetchLoop;

// download: fetch a whole image and judge it. check: ask whether a URL answers (HEAD, or a GET of
// one byte when HEAD is refused), keep no body, and classify the answer.
enum class FetchPurpose { download, check };

struct FetchPolicy {
  FetchPurpose purpose = FetchPurpose::download;
  // Transfers at once = easy handles in the pool = connection cap. Each holds a socket: the process's
  // open-files limit must allow for them (sluice raises its soft limit to the hard one at start-up).
  std::size_t max_in_flight = 64;
  std::size_t max_per_host = 0;  // transfers at once to one scheme://host:port; 0 = max_in_flight
  double per_host_rate = 0;      // requests started per second to one host, retries included; 0 = no limit
  std::size_t io_threads = 1;    // each thread runs its own multi handle with a share of the caps
  long connect_timeout_ms = 5000;
  long transfer_timeout_ms = 30000;  // per attempt, from the moment the transfer gets a handle
  std::size_t max_body_bytes = 10 << 20;
  std::size_t max_header_bytes = 64 << 10;  // per response (each redirect hop counts on its own)
  int max_redirects = 5;
  int max_attempts = 4;  // retries on connect errors, timeouts, broken bodies, 5xx and 429
  long backoff_initial_ms = 200;
  long backoff_max_ms = 10000;
  long retry_after_cap_ms = 30000;
  std::uint64_t random_seed = 0x5eed;  // jitter RNG; fixed so that runs are reproducible
  // Empty = any content type (the bytes are still sniffed). Parameters such as "; charset" are ignored.
  std::vector<std::string> allowed_content_types = {"image/jpeg", "image/png", "image/gif", "image/webp"};
  std::vector<std::string> allow_networks;  // CIDRs reachable despite the SSRF guard
  std::string proxy;                        // empty = direct; proxy environment variables are ignored
  std::string user_agent = "sluice/0.1";
};

struct FetchJob {
  std::string url;
  std::string etag;           // sent as If-None-Match when not empty
  std::string last_modified;  // sent as If-Modified-Since when not empty
  void* user = nullptr;       // handed back in FetchResult::user
  bool ranged_get = false;    // check: GET bytes=0-0 from the start rather than HEAD first
};

struct FetchResult {
  enum class Status { ok, not_modified, failed, aborted };

  Status status = Status::failed;
  long http_status = 0;  // of the last attempt; 0 when no response arrived
  int curl_code = 0;     // CURLcode of the last attempt
  int attempts = 0;      // transfers started for this job (shared jobs report the shared count)
  std::string error;     // empty unless failed or aborted
  std::string url;       // as submitted
  std::string effective_url;
  std::string body;  // only for ok
  std::string content_type;
  std::string etag;
  std::string last_modified;
  ImageInfo image;  // only for ok
  UrlProbe probe;   // check: what the URL answered (status is ok when healthy, failed otherwise)
  void* user = nullptr;
};

std::string_view to_string(FetchResult::Status status);

struct FetchStats {
  std::size_t in_flight = 0;      // transfers holding an easy handle
  std::size_t queued = 0;         // submitted transfers waiting for a handle
  std::size_t waiting_retry = 0;  // transfers sleeping before their next attempt (no handle held)
  std::uint64_t submitted = 0;    // submit() calls
  std::uint64_t completed = 0;    // callbacks run, whatever the status
  std::uint64_t ok = 0;
  std::uint64_t not_modified = 0;
  std::uint64_t failed = 0;
  std::uint64_t aborted = 0;
  std::uint64_t shared = 0;  // submits that joined a pending transfer of the same request
  std::uint64_t retries = 0;
  std::uint64_t bytes = 0;                // body bytes received, all attempts
  std::uint64_t callback_exceptions = 0;  // exceptions thrown by callbacks and swallowed
};

using FetchCallback = std::function<void(FetchResult&&)>;

// Guarantees:
// - The callback of every accepted submit() runs exactly once: with the result, or with `aborted`
//   after abort_all() or destruction. It runs on an I/O thread (or inline in submit() when the
//   fetcher is already shutting down), never under a fetcher lock, so it may call submit(),
//   abort_all() and stats(). It must not destroy the fetcher, and it must not throw: an exception is
//   swallowed and counted, since the other jobs still need their callbacks.
// - submit() never waits for I/O. If it throws (empty callback, std::bad_alloc) the job was not
//   accepted and the callback will never run.
// - Requests with equal url, etag and last_modified that are pending at the same time share one
//   transfer; every submitter gets its own copy of the result.
// - At most max_in_flight transfers (and max_per_host per host) hold a handle; the rest wait in a
//   FIFO inside the fetcher, and transfer_timeout_ms does not run while they wait.
class HttpFetcher {
 public:
  // Throws std::invalid_argument for an unusable policy, std::runtime_error if the I/O set-up fails.
  explicit HttpFetcher(FetchPolicy policy);
  // Aborts everything still pending (the callbacks run with `aborted`) and joins the I/O threads.
  ~HttpFetcher();

  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  void submit(FetchJob job, FetchCallback done);

  // Every job submitted before this call completes with `aborted` (unless it already completed).
  // From any other thread it returns once those callbacks have run; from a callback it returns at
  // once and the aborts follow as soon as that callback returns. Later submits work normally.
  void abort_all();

  FetchStats stats() const;
  const FetchPolicy& policy() const { return policy_; }

 private:
  FetchPolicy policy_;
  std::vector<std::unique_ptr<FetchLoop>> loops_;
};

}  // namespace sluice
