// The storage protocol of pg_sink on one database session: COPY new rows into the table, stage changed
// ones for one UPDATE, or merge rows of unknown state; and read the snapshot a rerun starts from.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clients/pg.hpp"
#include "nodes/node.hpp"
#include "nodes/sink/pg_rows.hpp"
#include "nodes/sink/pg_snapshot.hpp"
#include "nodes/sink/pg_target.hpp"

namespace sluice {

// What a write took rows for was wrong (a "new" row was there, a "changed" one was not): the
// transaction is lost and the rows must be merged instead.
struct StaleGuess {};

class PgWriter {
 public:
  PgWriter(const Target& target, std::string supplier, std::string name);

  // Opens a new session (the previous one is dropped) and its staging table.
  void connect(const std::string& db, std::chrono::milliseconds connect_timeout,
               std::chrono::milliseconds statement_timeout, const std::atomic<bool>* cancel);
  PgConnection& connection() { return *conn_; }
  bool connected() const { return conn_ != nullptr; }

  // From any thread: ends what the session is doing (its transaction rolls back with it).
  void shutdown();

  // COPYs rows known to be new straight into the table. Throws StaleGuess if one was there.
  void insert(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& fresh, std::int64_t run_id);
  // Updates rows known to be there with another hash. Throws StaleGuess if fewer were updated.
  void update(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& changed, std::int64_t run_id);
  // Rows whose state is unknown: staged, then one UPDATE of those that differ and one INSERT of those
  // that are missing. Plans are pinned to key lookups: they never depend on the table's statistics.
  WriteCounts merge(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& all, std::int64_t run_id);

  // Reads the (key hash, row hash) of the supplier's rows. False if there are more than max_rows.
  bool load_snapshot(pqxx::transaction_base& t, KeySnapshot& out, std::size_t max_rows);

  // The server's message for a failure; a COPY's "line N" is replaced by the feed's line.
  std::string describe_failure(const std::exception& e) const;

 private:
  void stage(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& items);
  void pin_plans(pqxx::transaction_base& t);

  const Target& target_;
  std::string supplier_, name_;
  std::unique_ptr<PgConnection> conn_;
  std::mutex socket_mutex_;
  int socket_ = -1;
  std::string update_sql_, insert_sql_, snapshot_sql_;
  std::string relisted_sql_;  // a full sync: how many staged rows are delisted (merge counts them as relisted)
  std::vector<std::string> insert_columns_, stage_columns_;
  std::vector<std::uint64_t> copy_lines_;  // feed lines of the COPY in progress, for its error messages
  std::string buffer_;
};

}  // namespace sluice
