// A full-feed sync (the supplier's `sync: full`): the keys a run saw go to a table of their own as the
// batches are written; once the run completed, the supplier's listed rows whose key is not there are
// delisted in one statement, unless that is more of them than the supplier allows.
#pragma once

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "core/decimal.hpp"
#include "nodes/node.hpp"
#include "nodes/sink/pg_rows.hpp"
#include "nodes/sink/pg_target.hpp"

namespace sluice {

class FullSync {
 public:
  // target must have its delisted columns; run_id names the table of seen keys (sluice_seen_RUN).
  FullSync(const Target& target, std::string supplier, std::int64_t run_id);

  const std::string& table() const { return table_; }

  // Drops the seen-key tables that earlier runs of the supplier (or runs that ended) left behind when
  // their process died, then makes this run's: UNLOGGED, with the target's key columns and types, so
  // that a batch's keys cost one COPY and survive the run's reconnections.
  void create(pqxx::transaction_base& t);
  void drop(pqxx::transaction_base& t);

  // Adds the keys of these rows (the COPY text of their key columns).
  void record(pqxx::transaction_base& t, const EncodedRows& rows, const RowRefs& seen);

  struct Limits {
    Decimal max_ratio;
    bool allow_mass = false;
    std::uint64_t recorded = 0;  // keys record() added in transactions that committed
  };
  // Delists, in t, the supplier's listed rows whose key was not seen, and counts it in the run's
  // ledger row. Refused (nothing changes) when that is more than max_ratio of the listed rows and
  // allow_mass is not set. Throws when fewer keys than recorded are in the table (an UNLOGGED table is
  // emptied by a server crash): delisting from an incomplete set would delist products in the feed.
  SyncOutcome delist(pqxx::dbtransaction& t, const Limits& limits);

 private:
  const Target& target_;
  std::string supplier_;
  std::int64_t run_id_;
  std::string table_, key_columns_, match_;
  std::string buffer_;
};

}  // namespace sluice
