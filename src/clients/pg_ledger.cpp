// The run ledger: one row per run, its rejects, and `sluice runs`.
#include "clients/pg_ledger.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "core/json_writer.hpp"

namespace sluice {
namespace {

std::string raw_json(const Reject& r, const std::vector<std::string>* header) {
  std::string out = "{";
  for (std::size_t i = 0; i < r.raw.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, header && i < header->size() ? (*header)[i] : "#" + std::to_string(i + 1));
    out.push_back(':');
    // jsonb refuses \u0000, so NUL bytes are shown as the replacement character.
    append_json_string(out, sanitize_utf8(r.raw[i]));
  }
  return out + "}";
}

}  // namespace

namespace {

// How long the ledger keeps trying while the server is away: longer than a restart, so that a run
// the restart failed is still recorded once the server is back.
constexpr std::chrono::seconds kLedgerPatience{60};

}  // namespace

Ledger::Ledger(const std::string& conninfo, PgTimeouts timeouts)
    : conninfo_(conninfo),
      timeouts_(timeouts),
      conn_(connect(conninfo, ConnectOptions{timeouts.connect, {}, nullptr, "sluice ledger"})) {}

// The ledger outlives a database restart: its writes are small and idempotent enough to redo on a
// new session (an UPDATE by id; rejects are only lost if all tries fail, and then the run says so).
// A broken session is never used again (reactivation is off): each retry connects anew.
template <class F>
auto Ledger::with_retry(F&& f) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + kLedgerPatience;
  std::chrono::milliseconds wait{200};
  for (;;) {
    try {
      if (!conn_) conn_ = connect(conninfo_, ConnectOptions{timeouts_.connect, {}, nullptr, "sluice ledger"});
      StatementTimer timer(*conn_, timeouts_.statement);
      return f();
    } catch (const std::exception& e) {
      if (!is_transient(e, conn_.get()) || Clock::now() + wait >= give_up) throw;
      conn_.reset();
      std::this_thread::sleep_for(wait);
      wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(2));
    }
  }
}

std::int64_t Ledger::start(const RunStart& run) {
  std::lock_guard lock(mutex_);
  return with_retry([&] {
    pqxx::work t{*conn_};
    // The caller holds the supplier lock, so a run still marked running died without finishing: any
    // run of the supplier for an unsharded run (its lock excludes every worker); for a worker of a
    // sharded run, the unsharded runs (whose lock excludes its own) and the runs of its shard.
    const bool sharded = run.shard.active();
    const auto index = static_cast<std::int32_t>(run.shard.index), count = static_cast<std::int32_t>(run.shard.count);
    t.exec_params(
        "UPDATE sluice_run SET status = 'abandoned', finished_at = now(), "
        "error = 'the process ended without recording an outcome' WHERE supplier = $1 AND status = 'running' "
        "AND (NOT $2 OR shard IS NULL OR (shard = $3 AND shard_count = $4))",
        run.supplier, sharded, index, count);
    auto id = t.exec_params1(
                   "INSERT INTO sluice_run (supplier, graph, input, config_sha256, dry_run, group_id, shard, "
                   "shard_count) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), CASE WHEN $7 THEN $8::integer END, "
                   "CASE WHEN $7 THEN $9::integer END) RETURNING id",
                   run.supplier, run.graph, run.input, run.config_sha256, run.dry_run, run.group, sharded, index,
                   count)[0]
                  .as<std::int64_t>();
    t.commit();
    return id;
  });
}

void Ledger::add_rejects(std::int64_t run_id, const std::vector<Reject>& rejects,
                         const std::vector<std::string>* header) {
  if (rejects.empty()) return;
  std::lock_guard lock(mutex_);
  with_retry([&] {
    pqxx::work t{*conn_};
    pqxx::stream_to s{t, "sluice_reject", std::vector<std::string>{"run_id", "line", "node", "code", "message", "raw"}};
    for (const auto& r : rejects) {
      s << std::make_tuple(run_id, static_cast<std::int64_t>(r.line), r.node, r.code, sanitize_utf8(r.message),
                           raw_json(r, header));
    }
    s.complete();
    t.commit();
  });
}

void Ledger::finish(std::int64_t run_id, const RunEnd& e) {
  std::lock_guard lock(mutex_);
  auto i = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
  with_retry([&] {
    pqxx::work t{*conn_};
    t.exec_params0(
        "UPDATE sluice_run SET finished_at = now(), status = $2, exit_code = $3, input_sha256 = nullif($4, ''), "
        "rows_read = $5, rows_written = $6, rows_inserted = $7, rows_updated = $8, rows_unchanged = $9, "
        "rows_rejected = $10, rows_not_processed = $11, error = nullif($12, ''), rows_skipped = $13, "
        "rows_delisted = $14, rows_relisted = $15, rows_other_shard = $16 WHERE id = $1",
        run_id, e.status, e.exit_code, e.input_sha256, i(e.read), i(e.written), i(e.inserted), i(e.updated),
        i(e.unchanged), i(e.rejected), i(e.not_processed), e.error, i(e.skipped), i(e.delisted), i(e.relisted),
        i(e.other_shard));
    for (const auto& k : e.sinks)
      t.exec_params0(
          "INSERT INTO sluice_run_sink (run_id, sink, type, rows_in, rows_written, rows_inserted, rows_updated, "
          "rows_unchanged, rows_rejected, rows_not_processed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
          "ON CONFLICT (run_id, sink) DO NOTHING",
          run_id, k.sink, k.type, i(k.in), i(k.written), i(k.inserted), i(k.updated), i(k.unchanged), i(k.rejected),
          i(k.not_processed));
    t.commit();
  });
}

std::string format_runs(pqxx::connection_base& c, int limit) {
  pqxx::read_transaction t{c};
  // A sharded run is one line: the last run of each shard of its group (a shard rerun after a failure
  // replaces the failed one), its counts summed, its status the group's.
  auto rows = t.exec_params(
      "WITH latest AS (SELECT DISTINCT ON (coalesce(group_id, 'run ' || id), supplier, coalesce(shard, -1)) * "
      "FROM sluice_run ORDER BY coalesce(group_id, 'run ' || id), supplier, coalesce(shard, -1), id DESC), "
      "g AS (SELECT min(id) AS id, supplier, min(started_at) AS started, "
      "CASE WHEN bool_or(finished_at IS NULL) THEN NULL ELSE max(finished_at) END AS finished, "
      "CASE WHEN count(*) FILTER (WHERE status = 'running') > 0 THEN 'running' "
      "WHEN max(shard_count) IS NOT NULL AND count(*) FILTER (WHERE status = 'succeeded') < max(shard_count) "
      "THEN CASE WHEN count(DISTINCT status) = 1 THEN min(status) ELSE 'incomplete' END ELSE max(status) END "
      "AS status, max(exit_code) AS exit_code, "
      "CASE WHEN max(shard_count) IS NULL THEN '-' ELSE count(*) FILTER (WHERE status = 'succeeded') || '/' || "
      "max(shard_count) END AS shards, sum(rows_read - rows_other_shard) AS rows_read, sum(rows_inserted) AS "
      "rows_inserted, sum(rows_updated) AS rows_updated, sum(rows_unchanged) AS rows_unchanged, sum(rows_written) "
      "AS rows_written, sum(rows_rejected) AS rows_rejected, sum(rows_not_processed) AS rows_not_processed, "
      "bool_or(dry_run) AS dry_run FROM latest GROUP BY coalesce(group_id, 'run ' || id), supplier) "
      "SELECT id, supplier, to_char(started, 'YYYY-MM-DD HH24:MI:SS'), "
      "coalesce(round(extract(epoch FROM finished - started)::numeric, 1)::text, '-'), status, "
      "coalesce(exit_code::text, '-'), shards, rows_read, rows_inserted, rows_updated, rows_unchanged, rows_written, "
      "rows_rejected, rows_not_processed, dry_run FROM g ORDER BY id DESC LIMIT $1",
      limit);
  std::string out;
  char buf[512];
  const char* format = "%6s  %-12s %-19s %7s  %-12s %4s %6s %9s %9s %9s %9s %9s %9s %9s\n";
  std::snprintf(buf, sizeof buf, format, "id", "supplier", "started", "secs", "status", "exit", "shards", "read",
                "inserted", "updated", "unchanged", "written", "rejected", "not_proc");
  out += buf;
  for (const auto& r : rows) {
    std::string status = r[4].as<std::string>() + (r[14].as<bool>() ? " (dry)" : "");
    std::snprintf(buf, sizeof buf, format, r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), status.c_str(),
                  r[5].c_str(), r[6].c_str(), r[7].c_str(), r[8].c_str(), r[9].c_str(), r[10].c_str(), r[11].c_str(),
                  r[12].c_str(), r[13].c_str());
    out += buf;
  }
  return out;
}

std::string format_run(pqxx::connection_base& c, std::int64_t id) {
  pqxx::read_transaction t{c};
  auto rows = t.exec_params(
      "SELECT id, supplier, graph, input, coalesce(input_sha256, '-'), config_sha256, started_at::text, "
      "coalesce(finished_at::text, '-'), status, coalesce(exit_code::text, '-'), dry_run, rows_read, rows_written, "
      "rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_not_processed, coalesce(error, ''), "
      "rows_skipped, rows_delisted, rows_relisted, coalesce(group_id, ''), coalesce(shard || '/' || shard_count, ''), "
      "rows_other_shard FROM sluice_run WHERE id = $1",
      id);
  if (rows.empty()) throw std::runtime_error("no run with id " + std::to_string(id));
  const auto& r = rows[0];
  std::string out;
  auto line = [&](const char* name, const std::string& value) {
    out += std::string("  ") + name + ": " + value + "\n";
  };
  out += "run " + r[0].as<std::string>() + "\n";
  line("supplier", r[1].as<std::string>());
  if (!r[23].as<std::string>().empty())
    line("shard", r[23].as<std::string>() + " of group " +
                      (r[22].as<std::string>().empty() ? std::string("-") : r[22].as<std::string>()));
  line("graph", r[2].as<std::string>());
  line("input", r[3].as<std::string>() + " (sha256 " + r[4].as<std::string>() + ")");
  line("config sha256", r[5].as<std::string>());
  line("started", r[6].as<std::string>());
  line("finished", r[7].as<std::string>());
  line("status", r[8].as<std::string>() + (r[10].as<bool>() ? " (dry run: nothing was committed)" : "") +
                     ", exit code " + r[9].as<std::string>());
  line("read", r[11].as<std::string>());
  line("written (files)", r[12].as<std::string>());
  line("inserted", r[13].as<std::string>());
  line("updated", r[14].as<std::string>());
  line("unchanged", r[15].as<std::string>());
  line("rejected", r[16].as<std::string>());
  if (r[19].as<std::int64_t>() != 0) line("skipped", r[19].as<std::string>() + " (not products)");
  if (r[24].as<std::int64_t>() != 0) line("other shards", r[24].as<std::string>() + " (kept by the other workers)");
  line("not processed", r[17].as<std::string>());
  if (r[20].as<std::int64_t>() != 0 || r[21].as<std::int64_t>() != 0) {
    line("delisted", r[20].as<std::string>() + " (sync: full, not in the feed)");
    line("relisted", r[21].as<std::string>());
  }
  if (!r[18].as<std::string>().empty()) line("error", r[18].as<std::string>());
  auto top = t.exec_params(
      "SELECT code, node, count(*), min(line), (array_agg(message ORDER BY line))[1] FROM sluice_reject "
      "WHERE run_id = $1 GROUP BY code, node ORDER BY count(*) DESC, code LIMIT 10",
      id);
  if (!top.empty()) {
    out += "  top reject reasons:\n";
    for (const auto& q : top)
      out += "    " + q[2].as<std::string>() + " x " + q[0].as<std::string>() + " (" + q[1].as<std::string>() +
             "), first at line " + q[3].as<std::string>() + ": " + q[4].as<std::string>() + "\n";
  }
  return out;
}

}  // namespace sluice
