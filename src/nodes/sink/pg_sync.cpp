// Full-feed sync: the seen-key table and the delisting statement with its guard.
#include "nodes/sink/pg_sync.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "clients/pg_copy.hpp"

namespace sluice {

FullSync::FullSync(const Target& target, std::string supplier, std::int64_t run_id, std::string group, Shard shard)
    : target_(target),
      supplier_(std::move(supplier)),
      run_id_(run_id),
      group_(std::move(group)),
      shard_(shard),
      table_("sluice_seen_" + std::to_string(run_id)) {
  if (!target.delisted_at_column || !target.delisted_run_column)
    throw std::logic_error("a full sync needs the target's delisted columns");
  for (std::size_t k : target.key) {
    const std::string q = quote_identifier(target.columns[k].name);
    key_columns_ += (key_columns_.empty() ? "" : ", ") + q;
    copy_columns_.push_back(q);
    match_ += (match_.empty() ? "" : " AND ") + ("s." + q + " = p." + q);
  }
}

void FullSync::create(pqxx::transaction_base& t) {
  // Another run's table goes when that run ended without completing; when it died (it was running,
  // and this run holds the lock that run held); when it is a ready worker's whose group has delisted,
  // or whose shard this run replaces, or of an older group of this supplier. Workers of a group still
  // running, and ready ones waiting for their group, keep theirs.
  auto left = t.exec_params(
      "SELECT c.oid::regclass::text FROM pg_class c JOIN sluice_run r ON r.id = substring(c.relname FROM 13)::bigint "
      "WHERE c.relname ~ '^sluice_seen_[0-9]{1,18}$' AND c.relkind = 'r' AND r.id <> $1 AND ("
      "(r.status <> 'running' AND NOT r.sync_ready) "
      "OR (r.status = 'running' AND r.supplier = $2 AND ($4 = 0 OR (r.shard = $3 AND r.shard_count = $4))) "
      "OR (r.sync_ready AND (r.group_id IS NULL OR EXISTS (SELECT 1 FROM sluice_group_sync g WHERE g.supplier = "
      "r.supplier AND g.group_id = r.group_id))) "
      "OR (r.sync_ready AND r.supplier = $2 AND (r.group_id IS DISTINCT FROM nullif($5, '') OR (r.shard = $3 AND "
      "r.shard_count = $4))))",
      run_id_, supplier_, static_cast<std::int32_t>(shard_.index),
      static_cast<std::int32_t>(shard_.active() ? shard_.count : 0), group_);
  for (const auto& row : left) t.exec0("DROP TABLE IF EXISTS " + row[0].as<std::string>());
  t.exec0("DROP TABLE IF EXISTS " + table_);
  t.exec0("CREATE UNLOGGED TABLE " + table_ + " AS SELECT " + key_columns_ + " FROM " + target_.table_sql +
          " WITH NO DATA");
}

void FullSync::drop(pqxx::transaction_base& t) {
  t.exec0("DROP TABLE IF EXISTS " + table_);
}

void FullSync::add(const EncodedRows& rows, const RowRefs& seen) {
  pending_ += seen.size();
  for (const EncodedRow* r : seen) {
    // The key columns of the row's COPY line: a tab inside a value is escaped, so tabs split columns.
    std::string_view line = rows.line(*r);
    bool first = true;
    for (std::size_t k : target_.key) {
      std::size_t at = 0;
      for (std::size_t i = 0; i < k; ++i) at = line.find('\t', at) + 1;
      std::size_t end = line.find('\t', at);
      if (!first) buffer_.push_back('\t');
      buffer_.append(line.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
      first = false;
    }
    buffer_.push_back('\n');
  }
}

void FullSync::send(pqxx::transaction_base& t) {
  if (buffer_.empty()) return;
  CopyIn copy{t, table_, copy_columns_};
  copy.send(buffer_);
  copy.complete();
}

std::uint64_t FullSync::sent() {
  buffer_.clear();
  if (buffer_.capacity() > 2 * kSendBytes) buffer_.shrink_to_fit();
  return std::exchange(pending_, 0);
}

SyncOutcome FullSync::finish(pqxx::dbtransaction& t, const Limits& limits) {
  if (shard_.active()) return finish_group(t, limits);
  SyncOutcome out = delist(t, limits, limits.recorded);
  drop(t);
  return out;
}

SyncOutcome FullSync::finish_group(pqxx::dbtransaction& t, const Limits& limits) {
  SyncOutcome out;
  out.full = true;
  out.pending = true;
  // One worker at a time: the last to be ready sees all the others ready, and delists once.
  t.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                 "sluice:" + supplier_ + ":group " + group_);
  t.exec_params0("UPDATE sluice_run SET sync_ready = true, rows_seen = $2 WHERE id = $1", run_id_,
                 static_cast<std::int64_t>(limits.recorded));
  if (!t.exec_params("SELECT 1 FROM sluice_group_sync WHERE supplier = $1 AND group_id = $2", supplier_, group_)
           .empty()) {
    // A worker rerun after its group delisted: the group's delisting stands.
    out.pending = false;
    drop(t);
    return out;
  }
  // The latest ready run of each shard.
  auto ready = t.exec_params(
      "SELECT DISTINCT ON (shard) id, rows_seen FROM sluice_run WHERE supplier = $1 AND group_id = $2 AND "
      "shard_count = $3 AND sync_ready ORDER BY shard, id DESC",
      supplier_, group_, static_cast<std::int32_t>(shard_.count));
  out.shards_ready = static_cast<std::uint32_t>(ready.size());
  if (ready.size() < shard_.count) return out;
  // All there: their keys join this run's, and one statement delists what none of them saw.
  std::uint64_t recorded = 0;
  std::vector<std::string> tables;
  for (const auto& r : ready) {
    recorded += r[1].as<std::uint64_t>();
    std::string table = "sluice_seen_" + r[0].as<std::string>();
    if (table == table_) continue;
    if (t.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>())
      throw std::runtime_error("the keys worker run " + r[0].as<std::string>() + " of group " + group_ +
                               " saw are gone (" + table + "): nothing was delisted; rerun that shard");
    t.exec0("INSERT INTO " + table_ + " SELECT * FROM " + table);
    tables.push_back(table);
  }
  out = delist(t, limits, recorded);
  out.shards_ready = shard_.count;
  if (out.refused) return out;  // the tables stay: a worker rerun with --allow-mass-delist delists
  t.exec_params0(
      "INSERT INTO sluice_group_sync (supplier, group_id, shard_count, run_id, delisted) VALUES ($1, $2, $3, $4, $5)",
      supplier_, group_, static_cast<std::int32_t>(shard_.count), run_id_, static_cast<std::int64_t>(out.delisted));
  for (const auto& table : tables) t.exec0("DROP TABLE IF EXISTS " + table);
  drop(t);
  return out;
}

SyncOutcome FullSync::delist(pqxx::dbtransaction& t, const Limits& limits, std::uint64_t recorded) {
  SyncOutcome out;
  out.full = true;
  auto have = t.exec1("SELECT count(*) FROM " + table_)[0].as<std::uint64_t>();
  if (have < recorded)
    throw std::runtime_error("the keys this run saw are not all in " + table_ + " (" + std::to_string(have) + " of " +
                             std::to_string(recorded) +
                             "; the server restarted?): nothing was delisted, the next run will");
  // Fresh statistics: the planner otherwise knows nothing of the new table and may scan it per row.
  t.exec0("ANALYZE " + table_);
  // The supplier is the last parameter ($1 of the count, $2 of the update), when the table has its column.
  auto listed_rows = [&](int supplier_param) {
    std::string where = "p." + quote_identifier(*target_.delisted_at_column) + " IS NULL";
    if (target_.owner)
      where += " AND p." + quote_identifier(target_.columns[*target_.owner].name) + " = $" +
               std::to_string(supplier_param);
    return where;
  };
  const std::string count_sql = "SELECT count(*) FROM " + target_.table_sql + " p WHERE " + listed_rows(1);
  out.listed = (target_.owner ? t.exec_params1(count_sql, supplier_) : t.exec1(count_sql))[0].as<std::uint64_t>();
  const std::string delist_sql = "UPDATE " + target_.table_sql + " p SET " +
                                 quote_identifier(*target_.delisted_at_column) + " = now(), " +
                                 quote_identifier(*target_.delisted_run_column) + " = $1 WHERE " + listed_rows(2) +
                                 " AND NOT EXISTS (SELECT 1 FROM " + table_ + " s WHERE " + match_ + ")";
  pqxx::subtransaction sub{t, "sluice_delist"};
  // libpqxx 6 issues a subtransaction's SAVEPOINT with its first exec(), not with exec_params(): without
  // this statement the UPDATE would run outside the savepoint and a refusal could not undo it.
  sub.exec0("SET LOCAL jit = off");
  auto delisted = target_.owner ? sub.exec_params(delist_sql, run_id_, supplier_) : sub.exec_params(delist_sql, run_id_);
  out.delisted = delisted.affected_rows();
  if (!limits.allow_mass && ratio_exceeded(out.delisted, out.listed, limits.max_ratio)) {
    sub.abort();
    out.refused = true;
    return out;
  }
  if (run_id_ != 0 && out.delisted > 0)
    sub.exec_params0("UPDATE sluice_run SET rows_delisted = rows_delisted + $2 WHERE id = $1", run_id_,
                     static_cast<std::int64_t>(out.delisted));
  sub.commit();
  out.applied = true;
  return out;
}

}  // namespace sluice
