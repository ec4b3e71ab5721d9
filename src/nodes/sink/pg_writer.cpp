// pg_sink's statements: COPY, the staged UPDATE and INSERT, and the snapshot's COPY out.
#include "nodes/sink/pg_writer.hpp"

#include <sys/socket.h>

#include <charconv>
#include <cstdlib>

#include "clients/pg_copy.hpp"

namespace sluice {

PgWriter::PgWriter(const Target& target, std::string supplier, std::string name)
    : target_(target), supplier_(std::move(supplier)), name_(std::move(name)) {
  std::string set, match, cols, staged, keys;
  for (std::size_t i = 0; i < target.columns.size(); ++i) {
    const std::string q = quote_identifier(target.columns[i].name);
    cols += (i ? ", " : "") + q;
    staged += (i ? ", s." : "s.") + q;
    bool is_key = false;
    for (std::size_t k : target.key) is_key = is_key || k == i;
    if (is_key) {
      match += (match.empty() ? "" : " AND ") + ("p." + q + " = s." + q);
      keys += (keys.empty() ? "" : ", ") + q;
    } else {
      set += q + " = s." + q + ", ";
    }
    insert_columns_.push_back(q);
    stage_columns_.push_back(q);
  }
  const std::string hash = quote_identifier(target.hash_column), run = quote_identifier(target.run_column);
  set += hash + " = s." + hash + ", " + run + " = nullif($1::bigint, 0)";
  if (target.updated_at_column) set += ", " + quote_identifier(*target.updated_at_column) + " = now()";
  std::string differs = "p." + hash + " IS DISTINCT FROM s." + hash;
  std::string snapshot_hash = hash;
  if (target.delisted_at_column) {
    // A full sync: a delisted row that is in the feed again is listed again, even with the same data; the
    // snapshot gives it no hash, so it is merged, which counts it.
    const std::string at = quote_identifier(*target.delisted_at_column);
    set += ", " + at + " = NULL, " + quote_identifier(*target.delisted_run_column) + " = NULL";
    differs = "(" + differs + " OR p." + at + " IS NOT NULL)";
    snapshot_hash = "CASE WHEN " + at + " IS NULL THEN " + hash + " END";
    relisted_sql_ = "SELECT count(*) FROM " + target.table_sql + " p JOIN sluice_staging s ON " + match + " WHERE p." +
                    at + " IS NOT NULL";
  }
  update_sql_ = "UPDATE " + target.table_sql + " p SET " + set + " FROM sluice_staging s WHERE " + match + " AND " +
                differs;
  std::string extra_cols = ", " + hash + ", " + run, extra_vals = ", s." + hash + ", nullif($1::bigint, 0)";
  insert_columns_.push_back(hash);
  insert_columns_.push_back(run);
  if (target.first_run_column) {
    extra_cols += ", " + quote_identifier(*target.first_run_column);
    extra_vals += ", nullif($1::bigint, 0)";
    insert_columns_.push_back(quote_identifier(*target.first_run_column));
  }
  stage_columns_.push_back(hash);
  insert_sql_ = "INSERT INTO " + target.table_sql + " (" + cols + extra_cols + ") SELECT " + staged + extra_vals +
                " FROM sluice_staging s WHERE NOT EXISTS (SELECT 1 FROM " + target.table_sql + " p WHERE " + match + ")";
  snapshot_sql_ = "(SELECT " + keys + ", " + snapshot_hash + " FROM " + target.table_sql + " p";
  if (target.owner) snapshot_sql_ += " WHERE " + quote_identifier(target.columns[*target.owner].name) + " = ";
}

void PgWriter::connect(const std::string& db, std::chrono::milliseconds connect_timeout,
                       std::chrono::milliseconds statement_timeout, const std::atomic<bool>* cancel) {
  auto c = sluice::connect(db, ConnectOptions{connect_timeout, {}, cancel, name_});
  {
    std::lock_guard l(socket_mutex_);
    conn_ = std::move(c);
    socket_ = conn_->sock();
  }
  StatementTimer timer(*conn_, statement_timeout);
  pqxx::nontransaction n{*conn_};
  n.exec0("SET statement_timeout = " + std::to_string(statement_timeout.count()));
  std::string cols;
  for (const auto& c2 : stage_columns_) cols += (cols.empty() ? "" : ", ") + c2;
  // Types without constraints or defaults: a staged row only has to reach the UPDATE or INSERT.
  n.exec0("CREATE TEMP TABLE IF NOT EXISTS sluice_staging ON COMMIT DELETE ROWS AS SELECT " + cols + " FROM " +
          target_.table_sql + " WITH NO DATA");
}

void PgWriter::shutdown() {
  std::lock_guard l(socket_mutex_);
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

void PgWriter::pin_plans(pqxx::transaction_base& t) {
  // Key lookups by the unique index are always right here, however stale the statistics: a first load
  // followed by a rerun (or a big table autoanalyze has not reached) would otherwise get nested loops
  // over whole scans. The penalty that forces them would also make the plan look costly enough to JIT.
  t.exec0(
      "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
      "SET LOCAL jit = off");
}

void PgWriter::insert(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& fresh, std::int64_t run_id) {
  if (fresh.empty()) return;
  buffer_.clear();
  copy_lines_.clear();
  std::string run;
  if (run_id)
    append_copy_int(run, run_id);
  else
    append_copy_null(run);
  for (const EncodedRow* r : fresh) {
    copy_lines_.push_back(r->line);
    buffer_.append(rows.line(*r));
    buffer_.push_back('\t');
    append_copy_int(buffer_, r->row_hash);
    buffer_.push_back('\t');
    buffer_ += run;
    if (target_.first_run_column) {
      buffer_.push_back('\t');
      buffer_ += run;
    }
    buffer_.push_back('\n');
  }
  try {
    CopyIn copy{t, target_.table_sql, insert_columns_};
    copy.send(buffer_);
    copy.complete();
  } catch (const pqxx::unique_violation&) {
    throw StaleGuess{};
  }
}

void PgWriter::stage(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& items) {
  // ON COMMIT DELETE ROWS empties it at the end of a transaction, not of a savepoint (mode: atomic).
  t.exec0("TRUNCATE sluice_staging");
  buffer_.clear();
  copy_lines_.clear();
  for (const EncodedRow* r : items) {
    copy_lines_.push_back(r->line);
    buffer_.append(rows.line(*r));
    buffer_.push_back('\t');
    append_copy_int(buffer_, r->row_hash);
    buffer_.push_back('\n');
  }
  CopyIn copy{t, "sluice_staging", stage_columns_};
  copy.send(buffer_);
  copy.complete();
}

void PgWriter::update(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& changed, std::int64_t run_id) {
  if (changed.empty()) return;
  stage(t, rows, changed);
  pin_plans(t);
  auto res = t.exec_params(update_sql_, run_id);
  if (res.affected_rows() != changed.size()) throw StaleGuess{};
}

WriteCounts PgWriter::merge(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& all,
                            std::int64_t run_id) {
  WriteCounts c;
  if (all.empty()) return c;
  stage(t, rows, all);
  pin_plans(t);
  if (!relisted_sql_.empty()) c.relisted = t.exec1(relisted_sql_)[0].as<std::uint64_t>();
  c.updated = t.exec_params(update_sql_, run_id).affected_rows();
  c.inserted = t.exec_params(insert_sql_, run_id).affected_rows();
  c.unchanged = all.size() - c.updated - c.inserted;
  return c;
}

bool PgWriter::load_snapshot(pqxx::transaction_base& t, KeySnapshot& out, std::size_t max_rows) {
  out.clear();
  std::string query = snapshot_sql_;
  if (target_.owner) query += t.quote(supplier_);
  query += " LIMIT " + std::to_string(max_rows + 1) + ")";
  pqxx::stream_from s{t, query};  // COPY (SELECT ...) TO STDOUT
  std::string line, key;
  std::size_t n = 0;
  const std::size_t parts = target_.key.size();
  while (s.get_raw_line(line)) {
    if (++n > max_rows) {
      while (s.get_raw_line(line)) {
      }
      s.complete();
      out.clear();
      return false;
    }
    // key fields, then the hash: "acme\tS1\t-123"
    std::string_view rest(line);
    if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
    key.clear();
    for (std::size_t i = 0; i < parts; ++i) {
      std::size_t tab = rest.find('\t');
      if (tab == std::string_view::npos) throw std::runtime_error("unexpected snapshot line from the server");
      std::string_view f = rest.substr(0, tab);
      if (f.find('\\') == std::string_view::npos)
        append_key_part(key, f);
      else
        append_key_part(key, unescape_copy_text(f));
      rest.remove_prefix(tab + 1);
    }
    std::int64_t hash = KeySnapshot::ambiguous;  // a NULL hash (a row written by someone else) never matches
    if (rest != "\\N") {
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), hash);
      if (ec != std::errc() || end != rest.data() + rest.size())
        throw std::runtime_error("unexpected row hash from the server");
    }
    out.add(key_hash(key), hash);
  }
  s.complete();
  out.seal();
  return true;
}

std::string PgWriter::describe_failure(const std::exception& e) const {
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

}  // namespace sluice
