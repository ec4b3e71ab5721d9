// pg_sink: idempotent upserts into PostgreSQL through COPY into a staging table and one merge per batch.
#include "nodes/sink/pg_sink.hpp"

#include <xxhash.h>

#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"table", Kind::string, "products table (created by `sluice db migrate`)", false, "product"},
      {"title_field", Kind::string, "field stored in the title column", false, "title"},
      {"category_field", Kind::string, "field stored in the category column", false, "category"},
      {"image_field", Kind::string, "field stored in the image_url column", false, "image_url"},
      {"max_attempts", Kind::integer, "tries of a batch when the database is unavailable", false, "8", 1, 100},
      {"retry_backoff_ms", Kind::integer, "first wait between tries; doubles up to 10 s", false, "200", 1, 60000},
      {"connect_timeout", Kind::duration,
       "longest wait for the server to accept a connection and answer (every connection of the run)", false, "10s"},
      {"statement_timeout", Kind::duration,
       "longest a statement may run (the server cancels it); a batch that gets no answer for this long plus 5 s "
       "(a frozen server) is retried on a new connection",
       false, "1m"},
  }};
  return s;
}

using Opt = std::optional<std::string>;

// Thrown inside a batch's transaction when the new-supplier shortcut met an existing key.
struct RetryWithDiff {};
using OptInt = std::optional<std::int64_t>;

// One staged row: what COPY sends, plus where it came from for a reject.
struct Row {
  std::size_t record;  // index in the batch
  std::uint64_t line;  // in the feed
  std::string key;
  Opt title, category, currency, image_url;
  OptInt net, tax, gross;
  std::string attributes;  // the record's fields that have no column of their own, as JSON
  std::int64_t hash = 0;   // of everything above but `record`: equal hashes mean nothing to write
};

// Stable across releases and machines: the hashes are stored and compared with later runs.
std::int64_t row_hash(const Row& r) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  auto add = [&](const Opt& v) {
    char tag = v ? 1 : 0;
    XXH3_64bits_update(st, &tag, 1);
    if (v) {
      std::uint64_t n = v->size();
      XXH3_64bits_update(st, &n, sizeof n);
      XXH3_64bits_update(st, v->data(), v->size());
    }
  };
  auto add_int = [&](const OptInt& v) {
    char tag = v ? 1 : 0;
    XXH3_64bits_update(st, &tag, 1);
    if (v) XXH3_64bits_update(st, &*v, sizeof *v);
  };
  add(r.key);
  add(r.title);
  add(r.category);
  add_int(r.net);
  add_int(r.tax);
  add_int(r.gross);
  add(r.currency);
  add(r.image_url);
  add(r.attributes);
  std::uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return static_cast<std::int64_t>(h);
}

class PgSink final : public SinkNode {
 public:
  PgSink(std::string id, const Settings& settings, const Supplier& supplier, Schema& schema)
      : id_(std::move(id)),
        table_(settings.string("table")),
        supplier_(supplier.name),
        atomic_(supplier.mode == "atomic"),
        max_attempts_(static_cast<int>(settings.integer("max_attempts"))),
        backoff_ms_(settings.integer("retry_backoff_ms")),
        connect_timeout_(settings.duration("connect_timeout").value_or(std::chrono::seconds(10))),
        statement_timeout_(settings.duration("statement_timeout").value_or(std::chrono::minutes(1))),
        schema_(schema) {
    key_ = schema.add(supplier.key);
    title_ = settings.string("title_field");
    category_ = settings.string("category_field");
    image_ = settings.string("image_field");
  }

  void open(const RunContext& ctx) override {
    ctx_ = ctx;
    auto find = [&](const std::string& name) -> std::optional<std::size_t> {
      return name.empty() ? std::nullopt : schema_.find(name);
    };
    title_index_ = find(title_);
    category_index_ = find(category_);
    image_index_ = find(image_);
    net_index_ = schema_.find("net_minor");
    tax_index_ = schema_.find("tax_minor");
    gross_index_ = schema_.find("gross_minor");
    currency_index_ = schema_.find("currency");
    for (const auto& name : schema_.names()) {
      std::string key;
      append_json_string(key, name);
      json_keys_.push_back(key + ":");
    }
    for (std::size_t i = 0; i < schema_.size(); ++i) {
      bool has_column = i == key_;
      for (const auto& c :
           {title_index_, category_index_, image_index_, net_index_, tax_index_, gross_index_, currency_index_})
        has_column = has_column || c == i;
      if (!has_column) attribute_fields_.push_back(i);
    }
    try {
      connect_session();
      StatementTimer timer(*conn_, statement_timeout_);
      require_current_schema(*conn_);
      pqxx::read_transaction t{*conn_};
      new_supplier_ =
          t.exec_params1("SELECT NOT EXISTS (SELECT 1 FROM " + table_quoted_ + " WHERE supplier = $1)", supplier_)[0]
              .as<bool>();
    } catch (const pqxx::failure& e) {
      throw std::runtime_error("node '" + id_ + "': " + server_message(e.what()));
    }
    if (atomic_) run_tx_ = std::make_unique<pqxx::work>(*conn_, "sluice_run");
  }

  // Ends the statement in progress by shutting the session's socket down: the open transaction rolls
  // back with the session. A cancel request would need a new connection, which a frozen server never
  // answers, and libpq's own cancel would touch this session's connection from a second thread.
  void abort() override {
    aborted_ = true;
    std::lock_guard l(socket_mutex_);
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  }

  WriteCounts write(Batch& batch) override {
    if (aborted_) throw RunCancelled();
    // Over the error budget already: this batch stays uncommitted (its rows count as not processed).
    if (over_budget(batch)) return {};
    // A key given twice in one batch would make the merge fail (21000); the last occurrence wins
    // and the earlier ones are rejected, so every row is still accounted for.
    std::unordered_map<std::string_view, std::size_t> last;
    std::vector<std::string> keys(batch.records.size());
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      keys[i] = value_text(batch.records[i].values[key_]);
      if (!keys[i].empty()) last[keys[i]] = i;
    }
    std::vector<Row> rows;
    rows.reserve(batch.records.size());
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      Record& r = batch.records[i];
      if (keys[i].empty()) {
        reject(batch, i, "missing_key", "the key field '" + schema_.names()[key_] + "' is empty");
      } else if (last[keys[i]] != i) {
        reject(batch, i, "duplicate_key",
               "key '" + keys[i] + "' appears again on line " + std::to_string(batch.records[last[keys[i]]].line) +
                   ", which wins");
      } else {
        rows.push_back(make_row(r, i, std::move(keys[i])));
      }
    }
    WriteCounts counts;
    merge(rows, 0, rows.size(), batch, counts);
    staged_ += counts;
    return counts;
  }

  std::uint64_t retries() const override { return retries_.load(); }

  WriteCounts close(bool complete) override {
    if (!run_tx_) return {};
    // All or nothing: only a run that completed keeps what it wrote.
    if (complete && !ctx_.dry_run) {
      try {
        StatementTimer timer(*conn_, statement_timeout_ + std::chrono::seconds(5));
        record_counts(*run_tx_, staged_);
        run_tx_->commit();
        run_tx_.reset();
        return {};
      } catch (const std::exception& e) {
        run_tx_.reset();
        if (committed_after_all()) return {};
        throw SinkCloseError("the run's COMMIT failed, nothing was written: " + server_message(e.what()), staged_);
      }
    }
    try {
      run_tx_->abort();
    } catch (const std::exception&) {
      // The session is gone, and its transaction with it.
    }
    run_tx_.reset();
    return staged_;
  }

 private:
  void reject(Batch& batch, std::size_t i, std::string code, std::string message) {
    const Record& r = batch.records[i];
    batch.rejects.push_back(Reject{r.line, id_, std::move(code), std::move(message), r.raw});
  }

  bool over_budget(const Batch& batch) const { return ctx_.over_budget && ctx_.over_budget(batch.rejects.size()); }

  // Adds what a batch wrote to the run's ledger row in the batch's own transaction: whatever happens
  // to the process afterwards, the ledger counts exactly what the table holds.
  void record_counts(pqxx::transaction_base& t, const WriteCounts& c) {
    if (ctx_.run_id == 0 || c.total() == 0) return;
    auto i = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
    t.exec_params0(
        "UPDATE sluice_run SET rows_inserted = rows_inserted + $2, rows_updated = rows_updated + $3, "
        "rows_unchanged = rows_unchanged + $4 WHERE id = $1",
        ctx_.run_id, i(c.inserted), i(c.updated), i(c.unchanged));
  }

  // After a failed COMMIT whose outcome libpq could not tell (the connection broke during it): the
  // counts committed with the data say whether it happened.
  bool committed_after_all() {
    if (ctx_.run_id == 0 || staged_.total() == 0) return false;
    try {
      auto c = connect(ctx_.db, ConnectOptions{connect_timeout_, {}, nullptr, "sluice pg_sink"});
      StatementTimer timer(*c, statement_timeout_);
      pqxx::read_transaction t{*c};
      auto n = t.exec_params1("SELECT rows_inserted + rows_updated + rows_unchanged FROM sluice_run WHERE id = $1",
                              ctx_.run_id)[0]
                   .as<std::int64_t>();
      return n == static_cast<std::int64_t>(staged_.total());
    } catch (const std::exception&) {
      return false;
    }
  }

  Row make_row(const Record& r, std::size_t index, std::string key) const {
    auto text = [&](std::optional<std::size_t> i) -> Opt {
      if (!i || is_null(r.values[*i])) return std::nullopt;
      return value_text(r.values[*i]);
    };
    auto integer = [&](std::optional<std::size_t> i) -> OptInt {
      if (!i) return std::nullopt;
      if (const auto* v = std::get_if<std::int64_t>(&r.values[*i])) return *v;
      return std::nullopt;
    };
    Row row{index,
            r.line,
            std::move(key),
            text(title_index_),
            text(category_index_),
            text(currency_index_),
            text(image_index_),
            integer(net_index_),
            integer(tax_index_),
            integer(gross_index_),
            {}};
    row.attributes.push_back('{');
    for (std::size_t i : attribute_fields_) {
      if (row.attributes.size() > 1) row.attributes.push_back(',');
      row.attributes += json_keys_[i];
      append_json_value(row.attributes, r.values[i]);
    }
    row.attributes.push_back('}');
    row.hash = row_hash(row);
    return row;
  }

  void connect_session() {
    auto c = connect(ctx_.db, ConnectOptions{connect_timeout_, {}, &aborted_, "sluice pg_sink"});
    {
      std::lock_guard l(socket_mutex_);
      conn_ = std::move(c);
      socket_ = conn_->sock();
    }
    StatementTimer timer(*conn_, statement_timeout_);
    pqxx::nontransaction n{*conn_};
    n.exec0("SET statement_timeout = " + std::to_string(statement_timeout_.count()));
    n.exec0("CREATE TEMP TABLE IF NOT EXISTS sluice_keys (sku text, row_hash bigint) ON COMMIT DELETE ROWS");
    n.exec0(
        "CREATE TEMP TABLE IF NOT EXISTS sluice_staging (sku text, title text, category text, net_minor bigint, "
        "tax_minor bigint, gross_minor bigint, currency text, image_url text, attributes jsonb, row_hash bigint) "
        "ON COMMIT DELETE ROWS");
    table_quoted_ = n.quote_name(table_);
    diff_sql_ = "SELECT k.sku, p.sku IS NULL FROM sluice_keys k LEFT JOIN " + table_quoted_ +
                " p ON p.supplier = $1 AND p.sku = k.sku WHERE p.row_hash IS DISTINCT FROM k.row_hash";
    update_sql_ =
        "UPDATE " + table_quoted_ +
        " p SET title = s.title, category = s.category, net_minor = s.net_minor, tax_minor = s.tax_minor, "
        "gross_minor = s.gross_minor, currency = s.currency, image_url = s.image_url, attributes = s.attributes, "
        "row_hash = s.row_hash, last_run_id = nullif($2, 0), updated_at = now() "
        "FROM sluice_staging s WHERE p.supplier = $1 AND p.sku = s.sku";
  }

  // Sends (key, hash) for every row, learns which keys are new and which changed, then COPYs the new
  // rows straight into the table and updates the changed ones from a staging table. Unchanged rows
  // cost one small line each; a rerun of an unchanged feed writes nothing.
  WriteCounts merge_once(const std::vector<Row>& rows, std::size_t begin, std::size_t end, pqxx::transaction_base& t) {
    if (new_supplier_) {
      // Nothing of this supplier is in the table yet: every row is new, COPY them straight in. A key that
      // is there after all (repeated across batches, or written by someone else) ends this shortcut.
      std::vector<const Row*> all;
      for (std::size_t i = begin; i < end; ++i) all.push_back(&rows[i]);
      try {
        copy_into_table(t, all);
      } catch (const pqxx::unique_violation&) {
        new_supplier_ = false;
        throw RetryWithDiff{};
      }
      WriteCounts c;
      c.inserted = all.size();
      return c;
    }
    if (atomic_) t.exec0("TRUNCATE sluice_keys, sluice_staging");
    // The table's statistics lag far behind a bulk load (it looks empty for the first minute), and the
    // planner would then scan it whole for every batch. Key lookups by primary key are always right here;
    // the penalty that forces them would otherwise make the plan look costly enough to JIT-compile.
    t.exec0(
        "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
        "SET LOCAL jit = off");
    std::unordered_map<std::string_view, const Row*> by_key;
    by_key.reserve(end - begin);
    {
      pqxx::stream_to s{t, "sluice_keys", std::vector<std::string>{"sku", "row_hash"}};
      copy_lines_.clear();
      for (std::size_t i = begin; i < end; ++i) {
        copy_lines_.push_back(rows[i].line);
        s << std::make_tuple(rows[i].key, rows[i].hash);
        by_key.emplace(rows[i].key, &rows[i]);
      }
      s.complete();
    }
    std::vector<const Row*> fresh, changed;
    for (const auto& r : t.exec_params(diff_sql_, supplier_)) {
      const Row* row = by_key.at(std::string_view(r[0].c_str(), r[0].size()));
      (r[1].as<bool>() ? fresh : changed).push_back(row);
    }
    if (!fresh.empty()) copy_into_table(t, fresh);
    if (!changed.empty()) {
      {
        pqxx::stream_to s{t, "sluice_staging",
                          std::vector<std::string>{"sku", "title", "category", "net_minor", "tax_minor", "gross_minor",
                                                   "currency", "image_url", "attributes", "row_hash"}};
        copy_lines_.clear();
        for (const Row* r : changed) copy_lines_.push_back(r->line);
        for (const Row* r : changed)
          s << std::make_tuple(r->key, r->title, r->category, r->net, r->tax, r->gross, r->currency, r->image_url,
                               r->attributes, r->hash);
        s.complete();
      }
      auto res = t.exec_params(update_sql_, supplier_, ctx_.run_id);
      if (res.affected_rows() != changed.size())
        throw std::logic_error("updated " + std::to_string(res.affected_rows()) + " rows, expected " +
                               std::to_string(changed.size()));
    }
    WriteCounts c;
    c.inserted = fresh.size();
    c.updated = changed.size();
    c.unchanged = (end - begin) - c.inserted - c.updated;
    return c;
  }

  void copy_into_table(pqxx::transaction_base& t, const std::vector<const Row*>& rows) {
    std::optional<std::int64_t> run_id = ctx_.run_id ? std::optional<std::int64_t>(ctx_.run_id) : std::nullopt;
    pqxx::stream_to s{
        t, table_quoted_,
        std::vector<std::string>{"supplier", "sku", "title", "category", "net_minor", "tax_minor", "gross_minor",
                                 "currency", "image_url", "attributes", "row_hash", "first_run_id", "last_run_id"}};
    copy_lines_.clear();
    for (const Row* r : rows) copy_lines_.push_back(r->line);
    for (const Row* r : rows)
      s << std::make_tuple(supplier_, r->key, r->title, r->category, r->net, r->tax, r->gross, r->currency,
                           r->image_url, r->attributes, r->hash, run_id, run_id);
    s.complete();
  }

  // Merges rows[begin, end) in one transaction (a savepoint in atomic mode). Rows the database refuses
  // are found by splitting the range in halves until each bad row is alone; the rest commit.
  void merge(const std::vector<Row>& rows, std::size_t begin, std::size_t end, Batch& batch, WriteCounts& out) {
    if (begin == end) return;
    for (int attempt = 1;; ++attempt) {
      try {
        // A frozen server never answers and never cancels: past the server's own limit, the session
        // is given up and the batch tried again on a new one.
        StatementTimer timer(*conn_, statement_timeout_ + std::chrono::seconds(5));
        if (atomic_) {
          pqxx::subtransaction sub{*run_tx_, "sluice_batch"};
          WriteCounts c = merge_once(rows, begin, end, sub);
          if (over_budget(batch)) return;  // the run rolls back as a whole
          sub.commit();
          out += c;
        } else {
          pqxx::work t{*conn_, "sluice_batch"};
          WriteCounts c = merge_once(rows, begin, end, t);
          // Rows refused by the database count against the budget: a batch that would take the run
          // over it is not committed.
          if (over_budget(batch)) {
            t.abort();
            return;
          }
          record_counts(t, c);
          if (ctx_.dry_run)
            t.abort();
          else
            t.commit();
          out += c;
        }
        return;
      } catch (const RetryWithDiff&) {
        --attempt;  // not a failure: the same rows again, the careful way
        continue;
      } catch (const std::exception& e) {
        if (aborted_) throw RunCancelled();  // the statement was cancelled on purpose; its batch rolled back
        if (is_data_error(e)) {
          if (end - begin == 1) {
            reject(batch, rows[begin].record, "database", server_message(e.what()));
            return;
          }
          std::size_t mid = begin + (end - begin) / 2;
          merge(rows, begin, mid, batch, out);
          merge(rows, mid, end, batch, out);
          return;
        }
        // An all-or-nothing run cannot survive losing its transaction; a per-batch run retries the batch,
        // which the idempotent merge makes safe even when the commit's fate was unknown.
        if (!is_transient(e, conn_.get()) || atomic_ || attempt >= max_attempts_)
          throw std::runtime_error(describe_failure(e));
        ++retries_;
        std::this_thread::sleep_for(backoff(attempt));
        try {
          connect_session();
        } catch (const std::exception&) {
          // Still down: the next attempt fails fast and counts.
        }
      }
    }
  }

  std::chrono::milliseconds backoff(int attempt) {
    std::int64_t cap = std::min<std::int64_t>(10000, backoff_ms_ << std::min(attempt - 1, 16));
    std::uniform_int_distribution<std::int64_t> jitter(cap / 2, cap);
    return std::chrono::milliseconds(jitter(rng_));
  }

  // The server's message for a failure that ends the run. Its "COPY <table>, line N" context counts
  // the rows of that COPY, which people cannot find in their feed: name the feed line instead.
  std::string describe_failure(const std::exception& e) const {
    std::string what = e.what();
    std::string out = server_message(what);
    static const std::string marker = "COPY ";
    for (std::size_t at = what.find("CONTEXT:"); at != std::string::npos; at = std::string::npos) {
      std::size_t copy = what.find(marker, at);
      std::size_t line = copy == std::string::npos ? copy : what.find(", line ", copy);
      if (line == std::string::npos) break;
      std::size_t n = std::strtoull(what.c_str() + line + 7, nullptr, 10);
      if (n >= 1 && n <= copy_lines_.size()) out += " (feed line " + std::to_string(copy_lines_[n - 1]) + ")";
    }
    return out;
  }

  std::string id_;
  std::string table_;
  std::string supplier_;
  bool atomic_;
  int max_attempts_;
  std::int64_t backoff_ms_;
  std::chrono::milliseconds connect_timeout_, statement_timeout_;
  const Schema& schema_;
  std::size_t key_;
  std::string title_, category_, image_;
  std::optional<std::size_t> title_index_, category_index_, image_index_, net_index_, tax_index_, gross_index_,
      currency_index_;
  std::vector<std::string> json_keys_;
  std::vector<std::size_t> attribute_fields_;
  RunContext ctx_;
  std::unique_ptr<PgConnection> conn_;
  std::mutex socket_mutex_;  // abort() shuts down the socket of the current session, never a stale one
  int socket_ = -1;
  std::vector<std::uint64_t> copy_lines_;  // feed lines of the COPY in progress, for its error messages
  std::unique_ptr<pqxx::work> run_tx_;
  std::string table_quoted_, diff_sql_, update_sql_;
  WriteCounts staged_;
  bool new_supplier_ = false;
  std::atomic<bool> aborted_{false};
  std::atomic<std::uint64_t> retries_{0};
  std::mt19937_64 rng_{std::random_device{}()};
};

NodeBody make(NodeBuildContext& ctx) {
  return std::make_unique<PgSink>(ctx.entry.id, ctx.settings, ctx.supplier, ctx.schema);
}

}  // namespace

const NodeType& pg_sink_type() {
  static const NodeType type{
      "pg_sink",
      NodeRole::sink,
      true,
      "Upserts records into PostgreSQL keyed by (supplier, key field): each batch sends (key, row hash) pairs, "
      "COPYs new rows straight into the table and updates changed ones from a staging table, so a rerun of an "
      "unchanged feed writes nothing. Counts inserted, updated and unchanged rows exactly. Rows the database refuses "
      "are "
      "isolated by splitting the batch and rejected with its message; the rest commit. The supplier's `mode: "
      "atomic` makes the whole run one transaction.",
      &spec,
      "id: db\ntype: pg_sink\n",
      &make,
      true,
  };
  return type;
}

}  // namespace sluice
