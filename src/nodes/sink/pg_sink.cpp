// pg_sink: idempotent upserts into PostgreSQL, into sluice's `product` table or one of the user's.
#include "nodes/sink/pg_sink.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <random>
#include <thread>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "nodes/sink/pg_job.hpp"
#include "nodes/sink/pg_rows.hpp"
#include "nodes/sink/pg_snapshot.hpp"
#include "nodes/sink/pg_sync.hpp"
#include "nodes/sink/pg_target.hpp"
#include "nodes/sink/pg_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"table", Kind::string, "table to write (schema.table allowed); sluice's own by default", false, "product"},
      {"columns", Kind::string_map,
       "for a table of yours: column -> what fills it: a field name, FIELD / 100 (an integer written as an exact "
       "decimal; any power of ten), or $supplier (the supplier's name, which scopes reruns to its rows)"},
      {"key", Kind::string_list, "for a table of yours: the columns that identify a row (a unique index on them)"},
      {"rest", Kind::string, "for a table of yours: a jsonb column that takes every field no column takes"},
      {"title_field", Kind::string, "field stored in product.title", false, "title"},
      {"category_field", Kind::string, "field stored in product.category", false, "category"},
      {"image_field", Kind::string, "field stored in product.image_url", false, "image_url"},
      {"connections", Kind::integer,
       "database sessions writing in parallel, rows spread over them by key (mode: atomic uses one)", false, "1", 1,
       16},
      {"snapshot_max_rows", Kind::integer,
       "a run first reads the key and row hash of the supplier's rows (about 20 bytes a row) to know new, changed and "
       "unchanged rows without asking the database; above this many rows it asks per batch instead (0: always)",
       false, "20000000", 0, 1000000000},
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

struct PartReject {
  std::size_t record;
  std::string message;
};

class PgSink final : public SinkNode {
 public:
  PgSink(std::string id, const Settings& settings, const Supplier& supplier, Target target, const Schema& schema)
      : id_(std::move(id)),
        supplier_(supplier.name),
        atomic_(supplier.mode == "atomic"),
        max_attempts_(static_cast<int>(settings.integer("max_attempts"))),
        backoff_ms_(settings.integer("retry_backoff_ms")),
        snapshot_max_rows_(static_cast<std::size_t>(settings.integer("snapshot_max_rows"))),
        connect_timeout_(settings.duration("connect_timeout").value_or(std::chrono::seconds(10))),
        statement_timeout_(settings.duration("statement_timeout").value_or(std::chrono::minutes(1))),
        max_delist_ratio_(supplier.max_delist_ratio),
        target_(std::move(target)),
        encoder_(target_, schema, supplier.name) {
    std::size_t n = atomic_ ? 1 : static_cast<std::size_t>(settings.integer("connections"));
    for (std::size_t i = 0; i < n; ++i)
      writers_.push_back(std::make_unique<PgWriter>(target_, supplier_, "sluice pg_sink"));
  }

  void open(const RunContext& ctx) override {
    ctx_ = ctx;
    try {
      {
        auto c = connect(ctx_.db, ConnectOptions{connect_timeout_, {}, &aborted_, "sluice pg_sink"});
        StatementTimer timer(*c, statement_timeout_);
        require_current_schema(*c);
        {
          pqxx::read_transaction t{*c};
          target_.check(t);  // before the sessions, whose staging tables are made from the table
        }
        if (target_.delisted_at_column) {
          sync_ = std::make_unique<FullSync>(target_, supplier_, ctx_.run_id, ctx_.group, ctx_.shard);
          sync_outcome_.full = true;
          if (!atomic_) {
            pqxx::work t{*c};
            sync_->create(t);
            t.commit();
          }
        }
      }
      for (auto& w : writers_) w->connect(ctx_.db, connect_timeout_, statement_timeout_, &aborted_);
    } catch (const pqxx::failure& e) {
      throw std::runtime_error("node '" + id_ + "': " + server_message(e.what()));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("node '" + id_ + "': " + e.what());
    }
    if (atomic_) {
      run_tx_ = std::make_unique<pqxx::work>(writers_[0]->connection(), "sluice_run");
      if (sync_) sync_->create(*run_tx_);  // rolls back with the run, or is dropped before it commits
    }
    // Read while the first batch is parsed, validated and priced; the first write waits for it.
    if (snapshot_max_rows_ > 0) {
      snapshot_thread_ = std::thread([this] {
        try {
          PgWriter& w = *writers_[0];
          StatementTimer timer(w.connection(), statement_timeout_);
          if (run_tx_) {
            pqxx::subtransaction t{*run_tx_, "sluice_snapshot"};
            snapshot_ready_ = w.load_snapshot(t, snapshot_, snapshot_max_rows_);
            t.commit();
          } else {
            pqxx::read_transaction t{w.connection()};
            snapshot_ready_ = w.load_snapshot(t, snapshot_, snapshot_max_rows_);
          }
        } catch (...) {
          snapshot_error_ = std::current_exception();
        }
      });
    }
  }

  ~PgSink() override {
    wait_for_snapshot(std::nothrow);
    if (job_thread_.joinable()) job_thread_.join();
  }

  void wait_for_snapshot(std::nothrow_t) {
    if (snapshot_thread_.joinable()) snapshot_thread_.join();
  }

  void wait_for_snapshot() {
    wait_for_snapshot(std::nothrow);
    if (!snapshot_error_) return;
    std::exception_ptr error = std::exchange(snapshot_error_, nullptr);
    if (aborted_) throw RunCancelled();
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      if (!is_transient(e, &writers_[0]->connection()))
        throw std::runtime_error("reading the key and row hash of the supplier's rows: " + server_message(e.what()));
    }
    // The database went away while it was read (a restart, say): every batch is then merged, which is
    // right without a snapshot, and the batches' own retries reconnect.
    snapshot_ready_ = false;
    snapshot_.clear();
  }

  // Ends the statements in progress by shutting the sessions' sockets down: open transactions roll back
  // with their sessions. A cancel request would need a new connection, which a frozen server never
  // answers, and libpq's own cancel would touch a session's connection from a second thread.
  void abort() override {
    aborted_ = true;
    for (auto& w : writers_) w->shutdown();
  }

  // Prepares the batch (encoding, repeated keys, the snapshot's verdicts) while the previous one is
  // written on its own thread, then hands it over and returns what the previous one wrote.
  WriteCounts write(Batch& batch) override {
    if (aborted_) throw RunCancelled();
    wait_for_snapshot();
    Job& job = jobs_[next_job_];
    job.reset();
    job.header = batch.raw_header;
    for (std::size_t i = 0; i < batch.records.size(); ++i)
      if (auto why = encoder_.encode(batch.records[i], i, job.rows)) reject(batch, i, why->code, why->message);
    // A key given twice in one batch would make one statement touch a row twice; the last occurrence
    // wins and the earlier ones are rejected, so every row is still accounted for.
    RowRefs keep;
    for (auto& [row, winner] : repeated_keys(job.rows, keep))
      reject(batch, row->record, "duplicate_key",
             "key '" + key_text(target_, job.rows.key(*row)) + "' appears again on line " +
                 std::to_string(winner->line) + ", which wins");
    job.mark = ctx_.budget_mark ? ctx_.budget_mark() : BudgetMark{};
    job.own_rejects = batch.rejects.size();
    job.lines.reserve(batch.records.size());
    job.raw.reserve(batch.records.size());
    for (auto& r : batch.records) {
      job.lines.push_back(r.line);
      job.raw.push_back(std::move(r.raw));
    }

    LateRows previous = finish_job();  // rethrows the previous batch's failure
    for (auto& r : previous.rejects) batch.rejects.push_back(std::move(r));
    if (aborted_) throw RunCancelled();
    // Over the error budget already: this batch stays uncommitted (its rows count as not processed).
    if (over_budget(job, 0)) return previous.counts;

    if (sync_) job.seen = keep;
    job.parts.assign(writers_.size(), Part{});
    for (const EncodedRow* r : keep) {
      Part& part = job.parts[r->key_hash % job.parts.size()];
      if (!snapshot_ready_) {
        part.unknown.push_back(r);
        continue;
      }
      const std::int64_t* stored = snapshot_.find(r->key_hash);
      if (!stored)
        part.fresh.push_back(r);
      else if (*stored == KeySnapshot::ambiguous)
        part.unknown.push_back(r);
      else if (*stored == r->row_hash)
        ++job.unchanged;
      else
        part.changed.push_back(r);
    }
    running_ = &job;
    next_job_ ^= 1;
    job_thread_ = std::thread([this, &job] { run_job(job); });
    return previous.counts;
  }

  LateRows drain() override { return finish_job(); }

  std::uint64_t retries() const override { return retries_.load(); }

  WriteCounts close(bool complete) override {
    wait_for_snapshot(std::nothrow);
    if (job_thread_.joinable()) job_thread_.join();  // drain() has collected it unless the run failed
    if (!run_tx_) {
      if (sync_) finish_sync(complete);
      return {};
    }
    // All or nothing: only a run that completed keeps what it wrote.
    PgConnection& c = writers_[0]->connection();
    if (complete && ctx_.dry_run && sync_ && !ctx_.shard.active()) {
      StatementTimer timer(c, statement_timeout_ + std::chrono::seconds(5));
      sync_->send(*run_tx_);
      sync_outcome_ = sync_->finish(*run_tx_, sync_limits());  // what it would do; rolled back below
    }
    if (complete && !ctx_.dry_run) {
      try {
        StatementTimer timer(c, statement_timeout_ + std::chrono::seconds(5));
        if (sync_) {
          sync_->send(*run_tx_);
          sync_outcome_ = sync_->finish(*run_tx_, sync_limits());
        }
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

  SyncOutcome sync() const override { return sync_outcome_; }

 private:
  // The keys not sent yet go in the transaction that delists.
  FullSync::Limits sync_limits() const {
    return {max_delist_ratio_, ctx_.allow_mass_delist, seen_recorded_ + sync_->waiting()};
  }

  // A run that completed delists what it did not see, or as a worker of a sharded run is ready for its
  // group to (a dry run only counts it, unsharded; a sharded one takes no part in its group). One that
  // did not complete drops its table of seen keys, trying once: its sessions may be gone, and the next
  // run drops what is left.
  void finish_sync(bool complete) {
    if (!complete || (ctx_.dry_run && ctx_.shard.active())) {
      try {
        if (aborted_ || !writers_[0]->connected()) return;
        pqxx::work t{writers_[0]->connection(), "sluice_sync"};
        sync_->drop(t);
        t.commit();
      } catch (const std::exception&) {
      }
      return;
    }
    with_retries(
        0,
        [&](PgWriter& w) {
          pqxx::work t{w.connection(), "sluice_sync"};
          sync_->send(t);
          sync_outcome_ = sync_->finish(t, sync_limits());
          if (ctx_.dry_run) {
            t.abort();
            pqxx::work d{w.connection(), "sluice_sync"};
            sync_->drop(d);
            d.commit();
            return;
          }
          t.commit();
        },
        [] {});
  }

  void reject(Batch& batch, std::size_t i, std::string code, std::string message) {
    const Record& r = batch.records[i];
    batch.rejects.push_back(Reject{r.line, id_, std::move(code), std::move(message), r.raw});
  }

  bool over_budget(const Job& job, std::size_t more) {
    if (!ctx_.over_budget) return false;
    std::lock_guard l(budget_mutex_);
    return ctx_.over_budget(job.mark, job.own_rejects + job.refused.load() + more);
  }

  // Adds what a transaction wrote to the run's ledger row in that transaction: whatever happens to the
  // process afterwards, the ledger counts exactly what the table holds.
  void record_counts(pqxx::transaction_base& t, const WriteCounts& c) {
    if (ctx_.run_id == 0 || c.total() == 0) return;
    auto i = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
    t.exec_params0(
        "UPDATE sluice_run SET rows_inserted = rows_inserted + $2, rows_updated = rows_updated + $3, "
        "rows_unchanged = rows_unchanged + $4, rows_relisted = rows_relisted + $5 WHERE id = $1",
        ctx_.run_id, i(c.inserted), i(c.updated), i(c.unchanged), i(c.relisted));
  }

  // After the batch's parts, on the first session: the count of the rows the snapshot found unchanged,
  // which needed no statement, and (a full sync) the keys it saw, sent a few MiB at a time. False if
  // the batch is over the budget.
  bool finish_batch(Job& job) {
    const bool count = !atomic_ && ctx_.run_id != 0 && job.unchanged > 0;
    if (!sync_ && !count) return true;
    if (sync_) sync_->add(job.rows, job.seen);
    const bool send = sync_ && sync_->full();
    if (atomic_) {
      if (send) {
        StatementTimer timer(writers_[0]->connection(), statement_timeout_ + std::chrono::seconds(5));
        sync_->send(*run_tx_);
        seen_recorded_ += sync_->sent();
      }
      return true;
    }
    if (over_budget(job, 0)) return false;
    if (!count && !send) return true;
    WriteCounts c;
    c.unchanged = job.unchanged;
    with_retries(
        0,
        [&](PgWriter& w) {
          // The keys commit even in a dry run: they are not data, and the end of the run drops them.
          pqxx::work t{w.connection(), "sluice_counts"};
          if (send) sync_->send(t);
          if (count && !ctx_.dry_run) record_counts(t, c);
          t.commit();
        },
        [] {});
    if (send) seen_recorded_ += sync_->sent();
    return true;
  }

  // The database work of one batch, on its own thread: every part (on its own session; the first on
  // this thread), then the count of the unchanged rows.
  void run_job(Job& job) {
    try {
      std::vector<std::vector<PartReject>> refused(job.parts.size());
      std::vector<WriteCounts> written(job.parts.size());
      std::vector<std::exception_ptr> errors(job.parts.size());
      std::vector<std::thread> threads;
      for (std::size_t i = 1; i < job.parts.size(); ++i) {
        if (job.parts[i].empty()) continue;
        threads.emplace_back([&, i] {
          try {
            write_part(i, job.parts[i], job, written[i], refused[i]);
          } catch (...) {
            errors[i] = std::current_exception();
          }
        });
      }
      try {
        if (!job.parts[0].empty()) write_part(0, job.parts[0], job, written[0], refused[0]);
      } catch (...) {
        errors[0] = std::current_exception();
      }
      for (auto& t : threads) t.join();
      for (std::size_t i = 0; i < job.parts.size(); ++i) {
        for (auto& r : refused[i]) {
          job.rejects.push_back(Reject{job.lines[r.record], id_, "database", std::move(r.message), job.raw[r.record]});
        }
        job.counts += written[i];
      }
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
      if (finish_batch(job)) job.counts.unchanged += job.unchanged;
    } catch (...) {
      job.error = std::current_exception();
    }
  }

  // Waits for the batch being written and hands back what it wrote; rethrows its failure.
  LateRows finish_job() {
    if (!running_) return {};
    if (job_thread_.joinable()) job_thread_.join();
    Job& job = *std::exchange(running_, nullptr);
    if (job.error) std::rethrow_exception(std::exchange(job.error, nullptr));
    staged_ += job.counts;
    return LateRows{job.counts, std::move(job.rejects), job.header};
  }

  // Runs f on writer i's session, again on a new session while the database is unavailable (before_retry
  // runs before each new try). Errors in the data are rethrown as they are, for the caller to isolate;
  // any other failure names the feed line the server pointed at.
  template <class F, class R>
  void with_retries(std::size_t i, F&& f, R&& before_retry) {
    PgWriter& w = *writers_[i];
    for (int attempt = 1;; ++attempt) {
      try {
        if (!w.connected()) throw pqxx::broken_connection("not connected");
        StatementTimer timer(w.connection(), statement_timeout_ + std::chrono::seconds(5));
        f(w);
        return;
      } catch (const RunCancelled&) {
        throw;
      } catch (const std::exception& e) {
        if (aborted_) throw RunCancelled();  // the statement was cancelled on purpose; its batch rolled back
        if (is_data_error(e)) throw;
        // An all-or-nothing run cannot survive losing its transaction; a per-batch run tries again,
        // which before_retry makes safe even when the commit's fate was unknown.
        if (!is_transient(e, w.connected() ? &w.connection() : nullptr) || atomic_ || attempt >= max_attempts_)
          throw std::runtime_error(w.describe_failure(e));
        ++retries_;
        before_retry();
        std::this_thread::sleep_for(backoff(attempt));
        try {
          w.connect(ctx_.db, connect_timeout_, statement_timeout_, &aborted_);
        } catch (const std::exception&) {
          // Still down: the next attempt fails fast and counts.
        }
      }
    }
  }

  // Writes a part in one transaction (a savepoint in atomic mode). Rows the database refuses are found by
  // splitting the part in halves until each bad row is alone; the rest commit.
  void write_part(std::size_t i, Part part, Job& job, WriteCounts& out, std::vector<PartReject>& refused) {
    if (part.empty()) return;
    try {
      with_retries(
          i,
          [&](PgWriter& w) {
            try {
              write_once(w, part, job, out);
            } catch (const StaleGuess&) {
              // Not a failure: the snapshot's guess was wrong (a key repeated across batches, a row written
              // by someone else); the same rows again, the careful way, which guesses nothing.
              part.forget();
              write_once(w, part, job, out);
            }
          },
          // The commit's fate may be unknown: merge, which is right either way.
          [&] { part.forget(); });
    } catch (const std::exception& e) {
      if (dynamic_cast<const RunCancelled*>(&e) || !is_data_error(e)) throw;
      if (part.size() == 1) {
        RowRefs one = part.all();
        refused.push_back({one[0]->record, server_message(e.what())});
        ++job.refused;
        return;
      }
      auto [a, b] = part.halves();
      write_part(i, std::move(a), job, out, refused);
      write_part(i, std::move(b), job, out, refused);
    }
  }

  void write_once(PgWriter& w, const Part& part, Job& job, WriteCounts& out) {
    WriteCounts c;
    auto apply = [&](pqxx::transaction_base& t) {
      if (!part.unknown.empty()) {
        c = w.merge(t, job.rows, part.all(), ctx_.run_id);
        return;
      }
      w.insert(t, job.rows, part.fresh, ctx_.run_id);
      w.update(t, job.rows, part.changed, ctx_.run_id);
      c.inserted = part.fresh.size();
      c.updated = part.changed.size();
    };
    if (atomic_) {
      pqxx::subtransaction sub{*run_tx_, "sluice_batch"};
      apply(sub);
      if (over_budget(job, 0)) return;  // the run rolls back as a whole
      sub.commit();
    } else {
      pqxx::work t{w.connection(), "sluice_batch"};
      apply(t);
      // Rows refused by the database count against the budget: a part that would take the run over it
      // is not committed.
      if (over_budget(job, 0)) {
        t.abort();
        return;
      }
      record_counts(t, c);
      if (ctx_.dry_run)
        t.abort();
      else
        t.commit();
    }
    out += c;
    if (!ctx_.dry_run && snapshot_ready_) remember(part);
  }

  // After a commit: the rows now hold these hashes. New rows are not added: a key repeated in a later
  // batch is then taken for new, fails its COPY and is merged.
  void remember(const Part& part) {
    for (const RowRefs* set : {&part.changed, &part.unknown})
      for (const EncodedRow* r : *set)
        if (std::int64_t* stored = snapshot_.find(r->key_hash); stored && *stored != KeySnapshot::ambiguous)
          *stored = r->row_hash;
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

  std::chrono::milliseconds backoff(int attempt) {
    std::int64_t cap = std::min<std::int64_t>(10000, backoff_ms_ << std::min(attempt - 1, 16));
    std::lock_guard l(rng_mutex_);
    std::uniform_int_distribution<std::int64_t> jitter(cap / 2, cap);
    return std::chrono::milliseconds(jitter(rng_));
  }

  std::string id_;
  std::string supplier_;
  bool atomic_;
  int max_attempts_;
  std::int64_t backoff_ms_;
  std::size_t snapshot_max_rows_;
  std::chrono::milliseconds connect_timeout_, statement_timeout_;
  Decimal max_delist_ratio_;
  Target target_;
  RowEncoder encoder_;
  Job jobs_[2];  // one being prepared while the other is written
  int next_job_ = 0;
  Job* running_ = nullptr;  // handed to job_thread_, not yet finished
  std::thread job_thread_;
  std::vector<std::unique_ptr<PgWriter>> writers_;
  KeySnapshot snapshot_;
  bool snapshot_ready_ = false;  // written by snapshot_thread_, read after joining it
  std::thread snapshot_thread_;
  std::exception_ptr snapshot_error_;
  RunContext ctx_;
  std::unique_ptr<pqxx::work> run_tx_;
  std::unique_ptr<FullSync> sync_;  // the supplier's sync: full
  std::uint64_t seen_recorded_ = 0;  // keys of the run's batches committed to sync_'s table (job thread)
  SyncOutcome sync_outcome_;
  WriteCounts staged_;
  std::mutex budget_mutex_, rng_mutex_;
  std::atomic<bool> aborted_{false};
  std::atomic<std::uint64_t> retries_{0};
  std::mt19937_64 rng_{std::random_device{}()};
};

NodeBody make(NodeBuildContext& ctx) {
  const Settings& s = ctx.settings;
  auto columns = s.string_map("columns");
  std::string table = s.string("table");
  if (columns.empty()) {
    if (s.has("key") || s.has("rest"))
      ctx.error(s.node(s.has("key") ? "key" : "rest"), s.has("key") ? "key" : "rest",
                "key: and rest: go with columns:, for a table of yours");
    if (!valid_identifier(table, true))
      ctx.error(s.node("table"), "table",
                "'" + table + "' is not a plain identifier (letters, digits and _, optionally schema.table)");
    Target target = Target::product(table, ctx.supplier, ctx.schema, s.string("title_field"),
                                    s.string("category_field"), s.string("image_field"));
    return std::make_unique<PgSink>(ctx.entry.id, s, ctx.supplier, std::move(target), ctx.schema);
  }
  std::vector<std::string> problems;
  Target target = Target::user(table, columns, s.string_list("key"), s.has("rest") ? s.string("rest") : "", ctx.schema,
                               problems);
  for (const auto& p : problems) ctx.error(s.node("columns"), "columns", p);
  if (ctx.supplier.full_sync) {
    target.delisted_at_column = "sluice_delisted_at";
    target.delisted_run_column = "sluice_delisted_run_id";
  }
  return std::make_unique<PgSink>(ctx.entry.id, s, ctx.supplier, std::move(target), ctx.schema);
}

}  // namespace

const NodeType& pg_sink_type() {
  static const NodeType type{
      "pg_sink",
      NodeRole::sink,
      true,
      "Upserts records into PostgreSQL: sluice's product table keyed by (supplier, key field), or a table of yours "
      "(columns:, key:). A run first reads the key and row hash of the supplier's rows; then new rows are COPYed "
      "straight into the table, changed ones staged and updated in one statement, and unchanged ones cost nothing, "
      "so a rerun of an unchanged feed writes nothing. Counts inserted, updated and unchanged rows exactly. Rows the "
      "database refuses are isolated by splitting the batch and rejected with its message; the rest commit. The "
      "supplier's `mode: atomic` makes the whole run one transaction.",
      &spec,
      "id: db\ntype: pg_sink\n",
      &make,
      true,
  };
  return type;
}

}  // namespace sluice
