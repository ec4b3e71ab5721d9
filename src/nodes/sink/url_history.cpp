// url_history: every URL check in the url_check table, and what changed since each URL's previous check.
#include "nodes/sink/url_history.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "clients/pg.hpp"
#include "clients/pg_copy.hpp"
#include "clients/pg_schema.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"keep_days", Kind::integer,
       "days a check is kept: a run that completes deletes older ones (0: keep them for ever)", false, "90", 0, 36500},
      {"connect_timeout", Kind::duration, "longest wait for the server to accept a connection and answer", false,
       "10s"},
      {"statement_timeout", Kind::duration,
       "longest a statement may run (the server cancels it); a batch that gets no answer for this long plus 5 s "
       "(a frozen server) fails the run",
       false, "1m"},
  }};
  return s;
}

// A longer URL would not fit one entry of url_check's index on url (about 2,700 bytes), and its
// COPY would fail the whole batch.
constexpr std::size_t kMaxUrlBytes = 2000;

// Each URL's latest check in this run ($1) against its latest check from an earlier run: run ids increase,
// so "earlier" is a smaller id, whatever the clocks said. Healthy means up or redirected. Every kind of
// change comes with its exact count; of those that went down or came back, the first $2 URLs in byte
// order (COLLATE "C", as std::string compares, whatever the database's locale); of the first seen, one
// row that carries the count.
const char* kChangesSql = R"sql(
WITH latest AS (
  SELECT DISTINCT ON (url) url, outcome FROM url_check WHERE run_id = $1 ORDER BY url, id DESC
), compared AS (
  SELECT n.url, p.outcome AS before, n.outcome AS now,
         CASE WHEN p.outcome IS NULL THEN 'first_seen'
              WHEN p.outcome IN ('up', 'redirected') AND n.outcome NOT IN ('up', 'redirected') THEN 'down'
              WHEN p.outcome NOT IN ('up', 'redirected') AND n.outcome IN ('up', 'redirected') THEN 'back'
         END AS change
  FROM latest n
  LEFT JOIN LATERAL (SELECT c.outcome FROM url_check c WHERE c.url = n.url AND c.run_id < $1
                     ORDER BY c.run_id DESC, c.id DESC LIMIT 1) p ON true
), ranked AS (
  SELECT change, url, before, now, count(*) OVER (PARTITION BY change) AS total,
         row_number() OVER (PARTITION BY change ORDER BY url COLLATE "C") AS rank
  FROM compared WHERE change IS NOT NULL
)
SELECT change, total, url, before, now FROM ranked
WHERE rank <= CASE change WHEN 'first_seen' THEN 1 ELSE $2 END
ORDER BY change, url COLLATE "C"
)sql";

// Where each stored field sits in the records.
struct Fields {
  std::size_t url, outcome, status, total_ms, final_url, error;
};

class UrlHistory final : public SinkNode {
 public:
  UrlHistory(std::string id, const Settings& settings, Fields fields, std::optional<Diagnostic> missing)
      : id_(std::move(id)),
        fields_(fields),
        missing_(std::move(missing)),
        keep_days_(settings.integer("keep_days")),
        connect_timeout_(settings.duration("connect_timeout").value_or(std::chrono::seconds(10))),
        statement_timeout_(settings.duration("statement_timeout").value_or(std::chrono::minutes(1))) {}

  void open(const RunContext& ctx) override {
    ctx_ = ctx;
    if (missing_) {
      Diagnostics d;
      d.add(*missing_);
      throw StartupError(d);
    }
    // Every check is filed under its run: without a ledger id, runs could not be told apart.
    if (ctx_.run_id <= 0) throw std::runtime_error("node '" + id_ + "': a URL history needs a run with a ledger");
    std::unique_ptr<PgConnection> c;
    try {
      c = connect(ctx_.db, ConnectOptions{connect_timeout_, {}, &aborted_, "sluice url_history"});
      StatementTimer timer(*c, statement_timeout_);
      require_current_schema(*c);
      pqxx::nontransaction(*c).exec0("SET statement_timeout = " + std::to_string(statement_timeout_.count()));
    } catch (const pqxx::failure& e) {
      throw std::runtime_error("node '" + id_ + "': " + server_message(e.what()));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("node '" + id_ + "': " + e.what());
    }
    std::lock_guard l(socket_mutex_);
    socket_ = c->sock();
    conn_ = std::move(c);
  }

  ~UrlHistory() override { disconnect(); }

  // Ends the statement in progress by shutting the session's socket down: its transaction rolls back
  // with it. A cancel request would need a new connection, which a frozen server never answers.
  void abort() override {
    aborted_ = true;
    std::lock_guard l(socket_mutex_);
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  }

  // One COPY and one commit per batch: a run that stops later keeps the checks it made.
  WriteCounts write(Batch& batch) override {
    if (aborted_) throw RunCancelled();
    lines_.clear();
    const std::size_t rejects_before = batch.rejects.size();
    batch.filter(id_, [this](const Record& r) { return encode(r); });
    if (batch.records.empty()) return {};
    // Over the error budget: the batch stays unwritten (its rows count as not processed).
    const BudgetMark mark = ctx_.budget_mark ? ctx_.budget_mark() : BudgetMark{};
    if (ctx_.over_budget && ctx_.over_budget(mark, batch.rejects.size() - rejects_before)) return {};
    WriteCounts c;
    c.inserted = batch.records.size();
    in_transaction("storing a batch of checks", [&](pqxx::work& t) {
      CopyIn copy(t, "url_check", {"run_id", "url", "outcome", "status", "latency_ms", "final_url", "error"});
      copy.send(lines_);
      copy.complete();
      // The ledger counts what the table holds, whatever happens to the process afterwards.
      t.exec_params0("UPDATE sluice_run SET rows_inserted = rows_inserted + $2 WHERE id = $1", ctx_.run_id,
                     static_cast<std::int64_t>(c.inserted));
      if (ctx_.dry_run)
        t.abort();
      else
        t.commit();
    });
    return c;
  }

  // Every batch committed on its own, so nothing counted is undone here. Only a run that completed
  // and stored its checks can say what changed: a partial run would report the URLs it never reached
  // as unchanged.
  WriteCounts close(bool complete) override {
    if (complete && !ctx_.dry_run && !aborted_ && conn_) {
      in_transaction("comparing the checks with the previous ones", [&](pqxx::work& t) {
        HealthChanges found = read_changes(t);
        // After the comparison: a URL's previous check counts even when it is older than keep_days.
        if (keep_days_ > 0)
          t.exec_params0("DELETE FROM url_check WHERE checked_at < now() - make_interval(days => $1::integer)",
                         keep_days_);
        t.commit();
        changes_ = std::move(found);
      });
    }
    disconnect();
    return {};
  }

  HealthChanges health_changes() const override { return changes_; }

 private:
  static std::optional<RejectReason> refuse(std::string message) {
    return RejectReason{"url_history", std::move(message)};
  }

  // Appends the record's COPY line to lines_, or says why it cannot be stored.
  std::optional<RejectReason> encode(const Record& r) {
    static const Value null;
    auto value = [&](std::size_t i) -> const Value& { return i < r.values.size() ? r.values[i] : null; };
    const auto* url = std::get_if<std::string>(&value(fields_.url));
    if (!url || url->empty()) return refuse("field 'url' is empty: no URL to keep the check of");
    if (url->size() > kMaxUrlBytes)
      return refuse("field 'url' is " + std::to_string(url->size()) + " bytes long, more than the " +
                    std::to_string(kMaxUrlBytes) + " the history can index");
    const auto* outcome = std::get_if<std::string>(&value(fields_.outcome));
    if (!outcome || outcome->empty())
      return refuse("field '" + std::string(url_fields::outcome) + "' is empty: the URL was not checked");

    line_.clear();
    append_copy_int(line_, ctx_.run_id);
    line_.push_back('\t');
    append_copy_text(line_, sanitize_utf8(*url));
    line_.push_back('\t');
    append_copy_text(line_, sanitize_utf8(*outcome));
    line_.push_back('\t');

    const Value& status = value(fields_.status);
    if (is_null(status)) {
      append_copy_null(line_);
    } else if (const auto* n = std::get_if<std::int64_t>(&status); n && *n >= 0 && *n <= 2147483647) {
      append_copy_int(line_, *n);
    } else {
      return refuse("field '" + std::string(url_fields::status) + "' is not an HTTP status: " + value_text(status));
    }
    line_.push_back('\t');

    // numeric(12,3): milliseconds to the microsecond, below a billion.
    const Value& total = value(fields_.total_ms);
    std::optional<Decimal> ms;
    if (const auto* d = std::get_if<Decimal>(&total)) ms = *d;
    if (const auto* n = std::get_if<std::int64_t>(&total)) ms = Decimal::from_units(*n, 0);
    if (ms && ms->scale() > 3) ms = ms->rescaled(3, Rounding::half_up);
    const Decimal limit = Decimal::from_units(1000000000, 0);
    if (is_null(total)) {
      append_copy_null(line_);
    } else if (ms && *ms<limit&& * ms> - limit) {
      line_ += ms->to_string();
    } else {
      return refuse("field '" + std::string(url_fields::total_ms) + "' is not a duration in milliseconds below " +
                    "a billion: " + value_text(total));
    }

    for (std::size_t i : {fields_.final_url, fields_.error}) {
      line_.push_back('\t');
      if (is_null(value(i)))
        append_copy_null(line_);
      else
        append_copy_text(line_, sanitize_utf8(value_text(value(i))));
    }
    line_.push_back('\n');
    lines_ += line_;
    return std::nullopt;
  }

  HealthChanges read_changes(pqxx::transaction_base& t) {
    HealthChanges out;
    out.known = true;
    auto rows = t.exec_params(kChangesSql, ctx_.run_id, static_cast<std::int64_t>(HealthChanges::listed_max));
    for (const auto& row : rows) {
      const auto change = row[0].as<std::string>();
      const auto total = static_cast<std::uint64_t>(row[1].as<std::int64_t>());
      if (change == "first_seen") {
        out.first_seen = total;
        continue;
      }
      HealthChange c{row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>()};
      if (change == "down") {
        out.went_down = total;
        out.down.push_back(std::move(c));
      } else {
        out.came_back = total;
        out.back.push_back(std::move(c));
      }
    }
    return out;
  }

  // Runs f in a transaction of the session. A statement that abort() cut short ends the run as
  // cancelled; one that got no answer in time (a frozen server) or failed fails the run.
  template <class F>
  void in_transaction(const std::string& what, F&& f) {
    std::optional<StatementTimer> timer;
    try {
      timer.emplace(*conn_, statement_timeout_ + std::chrono::seconds(5));
      pqxx::work t{*conn_, "url_history"};
      f(t);
    } catch (const std::exception& e) {
      const bool frozen = timer && timer->fired();
      timer.reset();
      if (aborted_) throw RunCancelled();
      if (frozen) throw std::runtime_error(what + ": no answer from the server within statement_timeout + 5 s");
      throw std::runtime_error(what + ": " + server_message(e.what()));
    }
  }

  void disconnect() {
    std::lock_guard l(socket_mutex_);
    socket_ = -1;
    conn_.reset();
  }

  std::string id_;
  Fields fields_;
  std::optional<Diagnostic> missing_;  // fields the records lack: reported when the run opens the node
  std::int64_t keep_days_;
  std::chrono::milliseconds connect_timeout_, statement_timeout_;
  RunContext ctx_;
  std::unique_ptr<PgConnection> conn_;
  std::mutex socket_mutex_;  // abort() shuts the socket down from another thread
  int socket_ = -1;
  std::atomic<bool> aborted_{false};
  std::string line_, lines_;  // COPY text of one record, of the batch
  HealthChanges changes_;
};

// The fields come from url_list and http_check, which the plan builds before the sink. A missing one is
// reported when the run opens the node rather than here, so that the type's example builds on its own.
NodeBody make(NodeBuildContext& ctx) {
  std::string missing;
  auto field = [&](std::string_view name) {
    auto i = ctx.schema.find(name);
    if (!i) missing += (missing.empty() ? "'" : ", '") + std::string(name) + "'";
    return i.value_or(0);
  };
  Fields f{field(url_fields::url),      field(url_fields::outcome),   field(url_fields::status),
           field(url_fields::total_ms), field(url_fields::final_url), field(url_fields::error)};
  std::optional<Diagnostic> problem;
  if (!missing.empty())
    problem = ctx.graph_doc.at(
        ctx.entry.settings, ctx.entry.path(),
        "the records have no field " + missing + ": url_history stores what url_list and http_check add to a record",
        ctx.entry.settings);
  return std::make_unique<UrlHistory>(ctx.entry.id, ctx.settings, f, std::move(problem));
}

}  // namespace

const NodeType& url_history_type() {
  static const NodeType type{
      "url_history",
      NodeRole::sink,
      true,
      "Keeps every URL check (url_list -> http_check -> url_history) in PostgreSQL's url_check table, one COPY and "
      "commit per batch. When a run completes it compares each URL's check with the URL's latest one from an earlier "
      "run and reports the URLs that went down (up or redirected before, failing now), those that came back, and how "
      "many were checked for the first time; then it deletes checks older than keep_days. Records without a URL or "
      "an outcome are rejected.",
      &spec,
      "id: history\ntype: url_history\nkeep_days: 30\n",
      &make,
      true,
      false,
  };
  return type;
}

}  // namespace sluice
