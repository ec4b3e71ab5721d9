// Full-feed sync: the seen-key table and the delisting statement with its guard.
#include "nodes/sink/pg_sync.hpp"

#include <stdexcept>

#include "clients/pg_copy.hpp"

namespace sluice {

FullSync::FullSync(const Target& target, std::string supplier, std::int64_t run_id)
    : target_(target), supplier_(std::move(supplier)), run_id_(run_id), table_("sluice_seen_" + std::to_string(run_id)) {
  if (!target.delisted_at_column || !target.delisted_run_column)
    throw std::logic_error("a full sync needs the target's delisted columns");
  for (std::size_t k : target.key) {
    const std::string q = quote_identifier(target.columns[k].name);
    key_columns_ += (key_columns_.empty() ? "" : ", ") + q;
    match_ += (match_.empty() ? "" : " AND ") + ("s." + q + " = p." + q);
  }
}

void FullSync::create(pqxx::transaction_base& t) {
  // A run of this supplier that died kept its table; so may a run of another supplier that has
  // ended since (its status is no longer 'running'). Runs still in progress keep theirs.
  auto left = t.exec_params(
      "SELECT c.oid::regclass::text FROM pg_class c JOIN sluice_run r ON r.id = substring(c.relname FROM 13)::bigint "
      "WHERE c.relname ~ '^sluice_seen_[0-9]{1,18}$' AND c.relkind = 'r' AND r.id <> $1 AND "
      "(r.status <> 'running' OR r.supplier = $2)",
      run_id_, supplier_);
  for (const auto& row : left) t.exec0("DROP TABLE IF EXISTS " + row[0].as<std::string>());
  t.exec0("DROP TABLE IF EXISTS " + table_);
  t.exec0("CREATE UNLOGGED TABLE " + table_ + " AS SELECT " + key_columns_ + " FROM " + target_.table_sql +
          " WITH NO DATA");
}

void FullSync::drop(pqxx::transaction_base& t) {
  t.exec0("DROP TABLE IF EXISTS " + table_);
}

void FullSync::record(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& seen) {
  if (seen.empty()) return;
  buffer_.clear();
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
  std::vector<std::string> columns;
  for (std::size_t k : target_.key) columns.push_back(quote_identifier(target_.columns[k].name));
  CopyIn copy{t, table_, columns};
  copy.send(buffer_);
  copy.complete();
}

SyncOutcome FullSync::delist(pqxx::dbtransaction& t, const Limits& limits) {
  SyncOutcome out;
  out.full = true;
  auto have = t.exec1("SELECT count(*) FROM " + table_)[0].as<std::uint64_t>();
  if (have < limits.recorded)
    throw std::runtime_error("the keys this run saw are not all in " + table_ + " (" + std::to_string(have) + " of " +
                             std::to_string(limits.recorded) +
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
