// http_fetch: downloads each record's image over libcurl's multi interface, without holding worker threads.
#include "nodes/transform/http_fetch.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "clients/address_guard.hpp"
#include "clients/http_fetcher.hpp"
#include "clients/image_store.hpp"
#include "core/json_writer.hpp"
#include "core/worker_pool.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"url_field", Kind::string, "field that holds the image URL (empty: the record has no image)", false,
       "image_url"},
      {"image_dir", Kind::path, "where images are stored, content-addressed, with the index of validators", false,
       "images"},
      {"max_in_flight", Kind::integer, "transfers at once, independent of worker threads", false, "64", 1, 20000},
      {"max_per_host", Kind::integer, "transfers at once to one host; 0 = max_in_flight", false, "0", 0, 20000},
      {"io_threads", Kind::integer_or_auto,
       "I/O threads, each with its own libcurl multi handle and connection cache; auto: one per 256 transfers at "
       "once, at most 8", false,
       "auto", 1, 16},
      {"connect_timeout", Kind::duration, "time to connect", false, "5s"},
      {"timeout", Kind::duration, "time for one attempt, from when it really starts (not while queued)", false, "30s"},
      {"max_bytes", Kind::integer, "largest image body, also for chunked responses", false, "10485760", 1, 1 << 30},
      {"max_redirects", Kind::integer, "redirects followed (each hop is checked like the first)", false, "5", 0, 20},
      {"max_attempts", Kind::integer, "tries for connection errors, timeouts, 5xx and 429", false, "4", 1, 20},
      {"backoff", Kind::duration, "first wait before a retry; doubles, with jitter", false, "200ms"},
      {"max_backoff", Kind::duration, "longest wait between tries", false, "10s"},
      {"retry_after_cap", Kind::duration, "longest Retry-After honoured", false, "30s"},
      {"content_types", Kind::string_list, "accepted Content-Type values", false,
       "[image/jpeg, image/png, image/gif, image/webp]"},
      {"proxy", Kind::string, "proxy URL; empty = direct (proxy environment variables are ignored)", false, "''"},
  }};
  return s;
}

std::string_view extension(ImageFormat f) {
  switch (f) {
    case ImageFormat::jpeg:
      return "jpg";
    case ImageFormat::png:
      return "png";
    case ImageFormat::gif:
      return "gif";
    case ImageFormat::webp:
      return "webp";
    default:
      return "bin";
  }
}

class HttpFetch final : public AsyncTransformNode {
 public:
  HttpFetch(std::string id, FetchPolicy policy, std::string dir, bool reject_on_failure, const std::string& url_field,
            Schema& schema)
      : id_(std::move(id)), policy_(std::move(policy)), dir_(std::move(dir)), reject_(reject_on_failure) {
    url_ = schema.add(url_field);
    sha_ = schema.add("image_sha256");
    path_ = schema.add("image_path");
    mime_ = schema.add("image_mime");
    width_ = schema.add("image_width");
    height_ = schema.add("image_height");
    bytes_ = schema.add("image_bytes");
    error_ = schema.add("image_error");
  }

  void open(const RunContext& ctx) override {
    // Nothing reaches the image store in a dry run. With a database, the validators live there.
    store_ = std::make_unique<ImageStore>(dir_, ctx.dry_run,
                                          ctx.database ? std::optional<std::string>(ctx.db) : std::nullopt);
    writers_ = std::make_unique<WorkerPool>(2);
    fetcher_ = std::make_unique<HttpFetcher>(policy_);
  }

  void start(std::shared_ptr<Batch> batch, std::function<void(std::exception_ptr)> done) override {
    auto state = std::make_shared<State>();
    state->batch = std::move(batch);
    state->done = std::move(done);
    state->failures.resize(state->batch->records.size());
    state->pending = 1;  // held until every record is submitted
    for (std::size_t i = 0; i < state->batch->records.size(); ++i) {
      Record& r = state->batch->records[i];
      const auto* url = std::get_if<std::string>(&r.values[url_]);
      if (!url || url->empty()) continue;
      FetchJob job;
      job.url = *url;
      {
        // One transfer per URL per run: a URL already fetched is applied at once; one whose
        // transfer is under way (or whose result is being stored) waits for that transfer.
        std::lock_guard lock(followers_mutex_);
        if (auto known = store_->find(*url)) {
          if (known->fetched_this_run) {
            apply(r, known->image);
            continue;
          }
          job.etag = known->etag;
          job.last_modified = known->last_modified;
        }
        ++state->pending;
        auto [it, first] = followers_.try_emplace(*url);
        if (!first) {
          it->second.push_back(Follower{state, i});
          continue;
        }
      }
      try {
        fetcher_->submit(std::move(job), [this, state, i](FetchResult&& res) {
          // Hashing and writing the image, and handing a finished batch back, are done off the I/O
          // thread: while it waited on the file system, no transfer would move.
          writers_->post([this, state, i, res = std::move(res)]() mutable { complete(state, i, std::move(res)); });
        });
      } catch (...) {
        // Not accepted: no callback will run for it, nor for the records that waited on it.
        auto error = std::current_exception();
        for (auto& f : take_followers(*url)) {
          f.state->set_error(error);
          finish_one(f.state);
        }
        --state->pending;
        throw;
      }
    }
    finish_one(state);
  }

  void abort() override {
    if (fetcher_) fetcher_->abort_all();
  }

  std::uint64_t retries() const override { return fetcher_ ? fetcher_->stats().retries : 0; }

  void close() override {
    if (writers_) writers_->wait_idle();
    if (store_) store_->save();
  }

 private:
  struct State {
    std::shared_ptr<Batch> batch;
    std::function<void(std::exception_ptr)> done;
    std::vector<std::optional<RejectReason>> failures;
    std::atomic<std::size_t> pending{0};
    std::mutex error_mutex;
    std::exception_ptr error;  // the first fatal error of any record

    void set_error(std::exception_ptr e) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::move(e);
    }
  };

  void apply(Record& r, const StoredImage& img) const {
    r.values[sha_] = img.sha256;
    r.values[path_] = img.path;
    r.values[mime_] = img.mime;
    r.values[width_] = static_cast<std::int64_t>(img.width);
    r.values[height_] = static_cast<std::int64_t>(img.height);
    r.values[bytes_] = static_cast<std::int64_t>(img.bytes);
  }

  void fail(State& s, std::size_t i, const std::string& why) const {
    Record& r = s.batch->records[i];
    std::string url = value_text(r.values[url_]);
    if (reject_)
      s.failures[i] = RejectReason{"image", why + " (" + url + ")"};
    else
      r.values[error_] = why;
  }

  // What one transfer came to, applied alike to every record that waited on it.
  struct Outcome {
    std::optional<StoredImage> image;  // set: the record gets it
    std::optional<std::string> failure;
    std::exception_ptr fatal;  // fails the run through the batch's completion
  };

  struct Follower {
    std::shared_ptr<State> state;
    std::size_t index;
  };

  std::vector<Follower> take_followers(const std::string& url) {
    std::lock_guard lock(followers_mutex_);
    auto node = followers_.extract(url);
    return node.empty() ? std::vector<Follower>{} : std::move(node.mapped());
  }

  // Runs on a writer thread. The image is remembered before the followers are taken, so a record
  // submitted later either finds it fetched or is among the followers.
  void complete(const std::shared_ptr<State>& state, std::size_t i, FetchResult&& res) {
    Outcome outcome;
    try {
      outcome = handle(std::move(res));
    } catch (...) {
      outcome.fatal = std::current_exception();
    }
    std::vector<Follower> followers = take_followers(value_text(state->batch->records[i].values[url_]));
    followers.insert(followers.begin(), Follower{state, i});
    for (auto& f : followers) {
      if (outcome.fatal)
        f.state->set_error(outcome.fatal);
      else if (outcome.image)
        apply(f.state->batch->records[f.index], *outcome.image);
      else if (outcome.failure)
        fail(*f.state, f.index, *outcome.failure);
      finish_one(f.state);
    }
  }

  Outcome handle(FetchResult&& res) {
    Outcome o;
    switch (res.status) {
      case FetchResult::Status::ok: {
        try {
          o.image = store_->put(res.body, extension(res.image.format), res.image.mime, res.image.width,
                                res.image.height);
        } catch (const ImageStoreError& e) {
          // A full or unwritable store fails the run; only a problem of this one image rejects the row.
          if (e.fatal()) throw;
          o.failure = e.what();
          return o;
        }
        store_->remember(res.url, UrlEntry{res.etag, res.last_modified, *o.image, true});
        return o;
      }
      case FetchResult::Status::not_modified: {
        auto known = store_->find(res.url);
        if (!known) {
          o.failure = "the server answered 304 Not Modified but no stored copy exists";
          return o;
        }
        o.image = known->image;
        known->fetched_this_run = true;
        store_->remember(res.url, *known);
        return o;
      }
      case FetchResult::Status::failed:
        o.failure = res.error.empty() ? "download failed" : res.error;
        return o;
      case FetchResult::Status::aborted:
        return o;  // the run is being cancelled; the batch will not be committed
    }
    return o;
  }

  void finish_one(const std::shared_ptr<State>& s) {
    if (--s->pending != 0) return;
    std::exception_ptr error;
    {
      std::lock_guard lock(s->error_mutex);
      error = s->error;
    }
    if (!error) {
      try {
        Batch& b = *s->batch;
        std::size_t index = 0;
        b.filter(id_, [&](Record&) { return std::move(s->failures[index++]); });
      } catch (...) {
        error = std::current_exception();
      }
    }
    s->done(error);
  }

  std::string id_;
  FetchPolicy policy_;
  std::string dir_;
  bool reject_;
  std::size_t url_, sha_, path_, mime_, width_, height_, bytes_, error_;
  std::unique_ptr<ImageStore> store_;
  std::mutex followers_mutex_;
  std::unordered_map<std::string, std::vector<Follower>> followers_;  // URL of a transfer under way -> records waiting
  std::unique_ptr<WorkerPool> writers_;   // declared before the fetcher: destroyed after it, so that
  std::unique_ptr<HttpFetcher> fetcher_;  // no callback posts to a pool that is gone
};

long millis(const Settings& s, const char* name) {
  return static_cast<long>(s.duration(name).value_or(std::chrono::milliseconds(0)).count());
}

NodeBody make(NodeBuildContext& ctx) {
  const Settings& s = ctx.settings;
  FetchPolicy p;
  p.max_in_flight = static_cast<std::size_t>(s.integer("max_in_flight"));
  p.max_per_host = static_cast<std::size_t>(s.integer("max_per_host"));
  // libcurl's cost per transfer grows with the connections one multi handle holds: to reuse one, it
  // walks the host's connections in its cache, in use or not. 256 per thread: 4096 transfers at once
  // took 1.62-1.71 s on 8 threads, 1.80-1.85 s on 4 and 2.10-2.30 s on 2 (10,000 images, 2 cores).
  p.io_threads = static_cast<std::size_t>(
      s.integer_or_auto("io_threads").value_or(std::clamp<std::int64_t>((s.integer("max_in_flight") + 255) / 256, 1, 8)));
  p.connect_timeout_ms = millis(s, "connect_timeout");
  p.transfer_timeout_ms = millis(s, "timeout");
  p.max_body_bytes = static_cast<std::size_t>(s.integer("max_bytes"));
  p.max_redirects = static_cast<int>(s.integer("max_redirects"));
  p.max_attempts = static_cast<int>(s.integer("max_attempts"));
  p.backoff_initial_ms = millis(s, "backoff");
  p.backoff_max_ms = millis(s, "max_backoff");
  p.retry_after_cap_ms = millis(s, "retry_after_cap");
  p.allowed_content_types = s.string_list("content_types");
  p.proxy = s.string("proxy");
  p.allow_networks = ctx.supplier.images.allow_networks;
  for (std::size_t i = 0; i < p.allow_networks.size(); ++i) {
    if (!Cidr::parse(p.allow_networks[i])) {
      YAML::Node where = lookup(ctx.supplier_doc.root(), {"images", "allow_networks"});
      ctx.diags.add(ctx.supplier_doc.at(
          where.IsSequence() && i < where.size() ? where[i] : where, "images.allow_networks[" + std::to_string(i) + "]",
          "'" + p.allow_networks[i] + "' is not a network such as 127.0.0.1/32 or ::1/128"));
    }
  }
  if (p.max_per_host > p.max_in_flight)
    ctx.error(s.node("max_per_host"), "max_per_host", "max_per_host cannot exceed max_in_flight");
  return std::make_unique<HttpFetch>(ctx.entry.id, std::move(p), s.string("image_dir"),
                                     ctx.supplier.images.reject_on_failure, s.string("url_field"), ctx.schema);
}

}  // namespace

const NodeType& http_fetch_type() {
  static const NodeType type{
      "http_fetch",
      NodeRole::transform,
      true,
      "Downloads each record's image with libcurl's multi interface on its own I/O thread(s), so thousands of "
      "transfers run at once on a few cores: per-transfer timeouts, size cap (chunked bodies too), content-type and "
      "real-image checks, retries with backoff honouring Retry-After, one transfer per URL per run, conditional "
      "requests (ETag / Last-Modified) against the image store, and no loopback or private addresses unless the "
      "supplier's images.allow_networks names them. Adds image_sha256, image_path, image_mime, image_width, "
      "image_height, image_bytes (and image_error when the policy keeps a row whose image failed).",
      &spec,
      "id: images\ntype: http_fetch\nmax_in_flight: 256\nimage_dir: out/images\n",
      &make,
  };
  return type;
}

}  // namespace sluice
