// http_check: asks whether each record's URL answers, on the fetcher's libcurl multi loop. A HEAD
// first, a GET of one byte when a server refuses or mishandles HEAD; redirects followed with every
// hop's address checked; the answer classified, timed and added to the record.
#include "nodes/transform/http_check.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clients/address_guard.hpp"
#include "clients/http_fetcher.hpp"
#include "core/json_writer.hpp"
#include "nodes/transform/check_tally.hpp"
#include "nodes/url_health.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"url_field", Kind::string, "field that holds the URL to check", false, "url"},
      {"method", Kind::choice,
       "head: HEAD first, a GET of one byte (Range: bytes=0-0) when HEAD is refused (405, 501), hangs or breaks; "
       "get: the one-byte GET from the start",
       false, "head", std::nullopt, std::nullopt, {"head", "get"}},
      {"max_in_flight", Kind::integer, "checks at once", false, "256", 1, 20000},
      {"max_per_host", Kind::integer, "checks at once to one host (scheme, name and port); 0 = max_in_flight", false,
       "16", 0, 20000},
      {"per_host_rate", Kind::decimal, "requests started per second to one host, retries included; 0 = no limit",
       false, "0"},
      {"io_threads", Kind::integer_or_auto, "I/O threads; auto: one per 256 checks at once, at most 8", false, "auto",
       1, 16},
      {"connect_timeout", Kind::duration, "time to connect (and finish TLS)", false, "5s"},
      {"timeout", Kind::duration, "time for one attempt, from when it really starts (not while queued)", false,
       "10s"},
      {"max_redirects", Kind::integer, "redirects followed; each hop's address is checked like the first", false, "5",
       0, 20},
      {"max_attempts", Kind::integer, "tries for 429, 503 and broken connections", false, "3", 1, 20},
      {"backoff", Kind::duration, "first wait before a retry; doubles, with jitter", false, "500ms"},
      {"max_backoff", Kind::duration, "longest wait between tries", false, "10s"},
      {"retry_after_cap", Kind::duration, "longest Retry-After honoured", false, "30s"},
      {"allow_networks", Kind::string_list,
       "CIDRs this node may reach although they are loopback or private (e.g. [10.20.0.0/16] for internal hosts)",
       false, "[]"},
      {"proxy", Kind::string, "proxy URL; empty = direct (proxy environment variables are ignored)", false, "''"},
      {"user_agent", Kind::string, "User-Agent header sent", false, "sluice-check/0.1"},
      {"fail_on", Kind::string_list,
       "outcome classes that make the run exit with code 7 (e.g. [server_error, timeout]); empty: none do", false,
       "[]"},
  }};
  return s;
}

Decimal millis(std::int64_t micros) {
  return Decimal::from_units(micros, 3);
}

class HttpCheck final : public AsyncTransformNode {
 public:
  HttpCheck(FetchPolicy policy, bool ranged_get, std::vector<std::string> fail_on, const std::string& url_field,
            Schema& schema)
      : policy_(std::move(policy)), ranged_get_(ranged_get), tally_(std::move(fail_on)) {
    url_ = schema.add(url_field);
    outcome_ = schema.add(url_fields::outcome);
    status_ = schema.add(url_fields::status);
    final_url_ = schema.add(url_fields::final_url);
    redirects_ = schema.add(url_fields::redirects);
    content_type_ = schema.add(url_fields::content_type);
    content_length_ = schema.add(url_fields::content_length);
    method_ = schema.add(url_fields::method);
    dns_ = schema.add(url_fields::dns_ms);
    connect_ = schema.add(url_fields::connect_ms);
    tls_ = schema.add(url_fields::tls_ms);
    first_byte_ = schema.add(url_fields::first_byte_ms);
    total_ = schema.add(url_fields::total_ms);
    attempts_ = schema.add(url_fields::attempts);
    error_ = schema.add(url_fields::error);
  }

  void open(const RunContext&) override { fetcher_ = std::make_unique<HttpFetcher>(policy_); }

  void start(std::shared_ptr<Batch> batch, std::function<void(std::exception_ptr)> done) override {
    auto state = std::make_shared<State>();
    state->batch = std::move(batch);
    state->done = std::move(done);
    state->pending = 1;  // held until every record is submitted
    for (std::size_t i = 0; i < state->batch->records.size(); ++i) {
      Record& r = state->batch->records[i];
      const auto* url = std::get_if<std::string>(&r.values[url_]);
      if (url == nullptr || url->empty()) {
        FetchResult none;
        none.status = FetchResult::Status::failed;
        none.error = "no URL";
        none.probe.outcome = CheckOutcome::invalid_url;
        apply(r, std::move(none), false);
        continue;
      }
      FetchJob job;
      job.url = *url;
      job.ranged_get = ranged_get_;
      ++state->pending;
      try {
        fetcher_->submit(std::move(job), [this, state, i](FetchResult&& res) {
          // A URL refused before any request (invalid, another scheme) has no method or timings.
          const bool requested = res.attempts > 0;
          if (res.status != FetchResult::Status::aborted) apply(state->batch->records[i], std::move(res), requested);
          finish_one(state);
        });
      } catch (...) {
        --state->pending;
        throw;  // not accepted: no callback will run for it
      }
    }
    finish_one(state);
  }

  void abort() override {
    if (fetcher_) fetcher_->abort_all();
  }

  std::uint64_t retries() const override { return fetcher_ ? fetcher_->stats().retries : 0; }

  void close() override { fetcher_.reset(); }

  std::optional<CheckReport> check_report() const override { return tally_.report(); }

 private:
  struct State {
    std::shared_ptr<Batch> batch;
    std::function<void(std::exception_ptr)> done;
    std::atomic<std::size_t> pending{0};
  };

  // Runs on the I/O thread: only the record's own values are written, nothing blocks.
  void apply(Record& r, FetchResult&& res, bool requested) {
    const UrlProbe& p = res.probe;
    const std::string url = value_text(r.values[url_]);
    r.values[outcome_] = std::string(to_string(p.outcome));
    r.values[status_] = res.http_status > 0 ? Value(static_cast<std::int64_t>(res.http_status)) : Value();
    r.values[final_url_] = res.effective_url.empty() ? Value() : Value(res.effective_url);
    std::string hops = "[";
    for (const auto& hop : p.redirects) {
      hops += hops.size() > 1 ? ",{\"url\":" : "{\"url\":";
      append_json_string(hops, hop.url);
      hops += ",\"status\":" + std::to_string(hop.status) + "}";
    }
    hops += "]";
    r.values[redirects_] = Json{std::move(hops)};
    r.values[content_type_] = res.content_type.empty() ? Value() : Value(res.content_type);
    r.values[content_length_] = p.content_length >= 0 ? Value(p.content_length) : Value();
    r.values[method_] = requested ? Value(std::string(p.ranged_get ? "GET" : "HEAD")) : Value();
    const bool timed = requested && p.timings.total_us > 0;
    auto timing = [&](std::int64_t us) { return timed ? Value(millis(us)) : Value(); };
    r.values[dns_] = timing(p.timings.dns_us);
    r.values[connect_] = timing(p.timings.connect_us);
    r.values[tls_] = timing(p.timings.tls_us);
    r.values[first_byte_] = timing(p.timings.first_byte_us);
    r.values[total_] = timing(p.timings.total_us);
    r.values[attempts_] = static_cast<std::int64_t>(res.attempts);
    r.values[error_] = res.error.empty() ? Value() : Value(res.error);
    tally_.add(url, p.outcome, p.timings.total_us, timed, res.attempts);
  }

  static void finish_one(const std::shared_ptr<State>& s) {
    if (--s->pending == 0) s->done(nullptr);
  }

  FetchPolicy policy_;
  bool ranged_get_;
  CheckTally tally_;
  std::size_t url_, outcome_, status_, final_url_, redirects_, content_type_, content_length_, method_, dns_,
      connect_, tls_, first_byte_, total_, attempts_, error_;
  std::unique_ptr<HttpFetcher> fetcher_;
};

long millis_setting(const Settings& s, const char* name) {
  return static_cast<long>(s.duration(name).value_or(std::chrono::milliseconds(0)).count());
}

NodeBody make(NodeBuildContext& ctx) {
  const Settings& s = ctx.settings;
  FetchPolicy p;
  p.purpose = FetchPurpose::check;
  p.max_in_flight = static_cast<std::size_t>(s.integer("max_in_flight"));
  p.max_per_host = static_cast<std::size_t>(s.integer("max_per_host"));
  p.io_threads = static_cast<std::size_t>(
      s.integer_or_auto("io_threads").value_or(std::clamp<std::int64_t>((s.integer("max_in_flight") + 255) / 256, 1, 8)));
  p.connect_timeout_ms = millis_setting(s, "connect_timeout");
  p.transfer_timeout_ms = millis_setting(s, "timeout");
  p.max_redirects = static_cast<int>(s.integer("max_redirects"));
  p.max_attempts = static_cast<int>(s.integer("max_attempts"));
  p.backoff_initial_ms = millis_setting(s, "backoff");
  p.backoff_max_ms = millis_setting(s, "max_backoff");
  p.retry_after_cap_ms = millis_setting(s, "retry_after_cap");
  p.allowed_content_types = {};
  p.proxy = s.string("proxy");
  p.user_agent = s.string("user_agent");
  if (p.user_agent.find_first_of("\r\n") != std::string::npos)
    ctx.error(s.node("user_agent"), "user_agent", "a line break cannot be sent in a header");
  if (auto rate = s.decimal("per_host_rate")) {
    p.per_host_rate = std::stod(rate->to_string());
    if (p.per_host_rate < 0)
      ctx.error(s.node("per_host_rate"), "per_host_rate", "per_host_rate cannot be negative");
  }
  p.allow_networks = s.string_list("allow_networks");
  for (std::size_t i = 0; i < p.allow_networks.size(); ++i) {
    if (!Cidr::parse(p.allow_networks[i])) {
      YAML::Node where = s.node("allow_networks");
      ctx.error(where.IsSequence() && i < where.size() ? where[i] : where, "allow_networks",
                "'" + p.allow_networks[i] + "' is not a network such as 127.0.0.1/32 or ::1/128");
    }
  }
  std::vector<std::string> fail_on = s.string_list("fail_on");
  for (std::size_t i = 0; i < fail_on.size(); ++i) {
    if (!parse_check_outcome(fail_on[i])) {
      std::string names;
      for (CheckOutcome o : all_check_outcomes) names += (names.empty() ? "" : ", ") + std::string(to_string(o));
      YAML::Node where = s.node("fail_on");
      ctx.error(where.IsSequence() && i < where.size() ? where[i] : where, "fail_on",
                "'" + fail_on[i] + "' is not an outcome class (" + names + ")");
    }
  }
  if (p.max_per_host > p.max_in_flight)
    ctx.error(s.node("max_per_host"), "max_per_host", "max_per_host cannot exceed max_in_flight");
  return std::make_unique<HttpCheck>(std::move(p), s.string("method") == "get", std::move(fail_on),
                                     s.string("url_field"), ctx.schema);
}

}  // namespace

const NodeType& http_check_type() {
  static const NodeType type{
      "http_check",
      NodeRole::transform,
      false,
      "Checks that each record's URL answers, on the same libcurl multi loop, limits, retries and address guard as "
      "http_fetch: HEAD first, a one-byte ranged GET when a server refuses, hangs on or mishandles HEAD; redirects "
      "followed (each hop's address checked; loopback and private networks refused unless allow_networks names "
      "them); per-host concurrency cap and rate; 429 and 503 retried honouring Retry-After. Classifies each URL as "
      "up, redirected, client_error, server_error, timeout, dns_error, connection_refused, tls_error, blocked, "
      "invalid_url, too_many_redirects or connection_error and adds check_outcome, check_status, check_final_url, "
      "check_redirects, check_content_type, check_content_length, check_method, check_dns_ms, check_connect_ms, "
      "check_tls_ms, check_first_byte_ms, check_total_ms (libcurl's timings from the attempt's start), "
      "check_attempts and check_error. Every record passes on; fail_on names the classes that fail the run.",
      &spec,
      "id: check\ntype: http_check\nmax_in_flight: 512\nmax_per_host: 8\nper_host_rate: 20\nfail_on: [server_error, "
      "timeout]\n",
      &make,
      false,
      false,
  };
  return type;
}

}  // namespace sluice
