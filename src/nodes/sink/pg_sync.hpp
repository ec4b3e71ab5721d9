// A full-feed sync (the supplier's `sync: full`): the keys a run saw go to a table of their own as the
// batches are written; once the run completed, the supplier's listed rows whose key is not there are
// delisted in one statement, unless that is more of them than the supplier allows. The workers of a
// sharded run each keep their table until the last of them completes: that one delists, from all
// their keys, once for the group.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/decimal.hpp"
#include "core/shard.hpp"
#include "nodes/node.hpp"
#include "nodes/sink/pg_rows.hpp"
#include "nodes/sink/pg_target.hpp"

namespace sluice {

class FullSync {
 public:
  // target must have its delisted columns; run_id names the table of seen keys (sluice_seen_RUN); a
  // worker of a sharded run names its group and shard.
  FullSync(const Target& target, std::string supplier, std::int64_t run_id, std::string group = {}, Shard shard = {});

  const std::string& table() const { return table_; }

  // Drops the seen-key tables nothing will use (runs that ended without completing, died, or whose
  // group has delisted or was followed by a newer one), then makes this run's: UNLOGGED, with the
  // target's key columns and types, so that a batch's keys cost one COPY and survive the run's
  // reconnections.
  void create(pqxx::transaction_base& t);
  void drop(pqxx::transaction_base& t);

  // Keeps the keys of these rows (the COPY text of their key columns) until send() COPYs them, in
  // pieces of about kSendBytes: a COPY per batch would cost more than the batch on an unchanged rerun.
  static constexpr std::size_t kSendBytes = 1 << 20;
  void add(const EncodedRows& rows, const RowRefs& seen);
  bool full() const { return buffer_.size() >= kSendBytes; }
  std::uint64_t waiting() const { return pending_; }
  // COPYs the keys kept so far in t; sent() forgets them once t committed and says how many there were.
  // A transaction tried again sends them again.
  void send(pqxx::transaction_base& t);
  std::uint64_t sent();

  struct Limits {
    Decimal max_ratio;
    bool allow_mass = false;
    std::uint64_t recorded = 0;  // keys sent in committed transactions and in the one that delists
  };
  // At the end of a run that completed, in t: delists the supplier's listed rows whose key was not
  // seen, counts it in the run's ledger row and drops the table. Refused (nothing changes) when that
  // is more than max_ratio of the listed rows and allow_mass is not set. A worker of a sharded run
  // marks itself ready instead and keeps its table; the last of the group's shards to be ready, under
  // the group's lock, delists from the keys of all of them, once. Throws when fewer keys than recorded
  // are in the tables (an UNLOGGED table is emptied by a server crash): delisting from an incomplete
  // set would delist products in the feed.
  SyncOutcome finish(pqxx::dbtransaction& t, const Limits& limits);

 private:
  SyncOutcome delist(pqxx::dbtransaction& t, const Limits& limits, std::uint64_t recorded);
  SyncOutcome finish_group(pqxx::dbtransaction& t, const Limits& limits);

  const Target& target_;
  std::string supplier_;
  std::int64_t run_id_;
  std::string group_;
  Shard shard_;
  std::string table_, key_columns_, match_;
  std::vector<std::string> copy_columns_;  // the key columns, quoted, for the COPY into table_
  std::string buffer_;        // keys not sent yet, as COPY lines
  std::uint64_t pending_ = 0;  // how many
};

}  // namespace sluice
