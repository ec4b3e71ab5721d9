// The three kinds of node body: plain C++ that the graph layer wraps in TBB flow-graph nodes.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "config/diagnostics.hpp"
#include "core/record.hpp"
#include "core/shard.hpp"
#include "nodes/url_health.hpp"

namespace sluice {

// What a run supplies to nodes when they open.
struct BudgetMark {
  std::uint64_t rows = 0, rejects = 0;
};

struct RunContext {
  std::string input{};      // the feed: a path or "-" for standard input; empty: the source's own setting
  std::string db{};         // PostgreSQL connection string ("" = libpq defaults and PG* variables)
  std::int64_t run_id = 0;  // the run's ledger id, 0 without a database
  bool dry_run = false;     // database writes are rolled back; nothing is stored
  bool database = false;    // the run uses PostgreSQL (the graph has a database node): keep state there
  std::int64_t as_of = 0;   // seconds since the epoch: "now" for sale windows and dated discounts
  bool allow_mass_delist = false;  // a full sync may delist more than the supplier's max_delist_ratio
  Shard shard{};                   // this worker's share of the feed (--shard); 0/1: all of it
  std::string group{};             // the name a sharded run's workers share (--group)
  // Set by the flow for its sink. budget_mark() is where the error budget stands as the batch being
  // written reaches the sink (the rows and rejects of every batch up to it). over_budget(mark, more)
  // says whether committing that batch, with `more` rejects of its own, would exceed the budget; a
  // sink that commits a batch later, on its own thread, asks with the batch's mark. A true answer
  // also stops the run; the sink then leaves the batch uncommitted.
  std::function<BudgetMark()> budget_mark{};
  std::function<bool(const BudgetMark& at, std::uint64_t more)> over_budget{};
};

// What a sink did with the records of a batch. File sinks write; database sinks insert, update or
// find a row unchanged. `relisted` counts rows of a full sync that were delisted and came back: they
// are also counted as updated or unchanged, so total() leaves them out.
struct WriteCounts {
  std::uint64_t written = 0, inserted = 0, updated = 0, unchanged = 0, relisted = 0;
  std::uint64_t total() const { return written + inserted + updated + unchanged; }
  WriteCounts& operator+=(const WriteCounts& o) {
    written += o.written;
    inserted += o.inserted;
    updated += o.updated;
    unchanged += o.unchanged;
    relisted += o.relisted;
    return *this;
  }
};

// What a full-feed sync did at the end of a run (a database sink of a `sync: full` supplier).
struct SyncOutcome {
  bool full = false;          // the supplier asked for a full sync
  bool applied = false;       // the run completed and delisted what it did not see (or found nothing to)
  bool refused = false;       // it would have delisted more than max_delist_ratio allows: nothing was
  bool pending = false;       // a worker of a sharded run: the group delists once its last shard completes
  std::uint32_t shards_ready = 0;  // a sharded run: its workers that completed, this one included
  std::uint64_t delisted = 0;  // products delisted (or, when refused, that would have been)
  std::uint64_t listed = 0;    // the supplier's listed products before delisting
  // What the run changed: `delisted` counts what it would have delisted too when refused.
  std::uint64_t delisted_now() const { return applied ? delisted : 0; }
};

// A problem found when a node opens (a missing column, an unreadable file): reported like a
// configuration error, before any row is processed.
class StartupError : public std::runtime_error {
 public:
  explicit StartupError(Diagnostics diags) : std::runtime_error(diags.format()), diags_(std::move(diags)) {}
  const Diagnostics& diagnostics() const { return diags_; }

 private:
  Diagnostics diags_;
};

// Thrown by a node body whose work was cut short because the run is being cancelled: the rows it
// held are counted as not processed, and the run ends with the reason it was cancelled for.
class RunCancelled : public std::runtime_error {
 public:
  RunCancelled() : std::runtime_error("cancelled") {}
};

// Thrown by SinkNode::close when finishing the output failed (a final COMMIT, say): `undone` is what
// was counted as written but is not kept.
class SinkCloseError : public std::runtime_error {
 public:
  SinkCloseError(const std::string& what, const WriteCounts& undone) : std::runtime_error(what), undone_(undone) {}
  const WriteCounts& undone() const { return undone_; }

 private:
  WriteCounts undone_;
};

class SourceNode {
 public:
  virtual ~SourceNode() = default;
  // Called from another thread when the run is cancelled: cut blocking work short.
  virtual void abort() {}
  virtual std::uint64_t retries() const { return 0; }
  virtual void open(const RunContext& ctx) = 0;
  // Fills out with up to max_records input rows (records and rejects together); false once the
  // input is exhausted and nothing was added.
  virtual bool next(Batch& out, std::size_t max_records) = 0;
  virtual std::uint64_t bytes_read() const { return 0; }
  virtual std::optional<std::uint64_t> bytes_total() const { return std::nullopt; }
};

class TransformNode {
 public:
  virtual ~TransformNode() = default;
  virtual void abort() {}
  virtual std::uint64_t retries() const { return 0; }  // operations tried again (transfers, say)
  virtual void open(const RunContext&) {}
  // Works on every record of the batch; records it cannot accept move to batch.rejects.
  // Must not throw for bad data: a throw is a fatal error that stops the run.
  virtual void process(Batch& batch) = 0;
  virtual void close() {}  // after the last batch, also when the run stopped early
  // What drops records on purpose (moved out and counted in batch.filtered), for the summary:
  // "category in [gift_card]"; empty: the node drops nothing.
  virtual std::string filter_condition() const { return {}; }
  // Rows of the node's own inputs (a supplemental feed) it refused while opening: they go to the run's
  // rejects output but are not rows of the main feed. Taken once, after open().
  virtual std::vector<Reject> take_side_rejects() { return {}; }
};

// A transform whose work completes elsewhere (downloads on an I/O thread): it must not hold a worker
// thread while it waits.
class AsyncTransformNode {
 public:
  virtual ~AsyncTransformNode() = default;
  virtual void open(const RunContext&) {}
  // Starts work on the batch and returns at once. `done` runs exactly once, on any thread, when every
  // record is finished (those it could not handle moved to batch->rejects), also after abort(): with
  // nullptr, or with a fatal error (which fails the run, naming the node). If start throws, `done`
  // never runs.
  virtual void start(std::shared_ptr<Batch> batch, std::function<void(std::exception_ptr)> done) = 0;
  virtual void abort() {}
  virtual std::uint64_t retries() const { return 0; }
  virtual void close() {}  // after the last batch, also when the run stopped early
  // After close(): what the URLs a checking node checked came to; nullopt for other nodes.
  virtual std::optional<CheckReport> check_report() const { return std::nullopt; }
};

// A node that sends each record to one of several named output ports (a router; a lookup whose
// missing keys go their own way).
class RouterNode {
 public:
  virtual ~RouterNode() = default;
  virtual void open(const RunContext&) {}
  // Moves every record of `batch` into outs[p], p indexing the node's output ports without
  // "rejects" (outs has one empty batch per port on entry), or to batch.rejects, or drops it and
  // counts it in batch.filtered. Records keep their order within each port. Must not throw for bad
  // data.
  virtual void route(Batch& batch, std::vector<Batch>& outs) = 0;
  virtual void abort() {}
  virtual std::uint64_t retries() const { return 0; }
  virtual void close() {}
  // What drops records on purpose, for the summary ("category in [gift_card]"); empty: nothing does.
  virtual std::string filter_condition() const { return {}; }
  // Rows of the node's own inputs (a supplemental feed) it refused while opening: they go to the run's
  // rejects output but are not rows of the main feed. Taken once, after open().
  virtual std::vector<Reject> take_side_rejects() { return {}; }
};

// What drain() hands back: rows finished after their batch's write() returned.
struct LateRows {
  WriteCounts counts;
  std::vector<Reject> rejects;
  std::shared_ptr<const std::vector<std::string>> header;  // of the rejects' raw fields
};

class SinkNode {
 public:
  virtual ~SinkNode() = default;
  // Called from another thread when the run is cancelled: abandon a write in progress (it must then
  // throw RunCancelled and leave nothing half-written).
  virtual void abort() {}
  virtual std::uint64_t retries() const { return 0; }  // batches tried again after a transient failure
  virtual void open(const RunContext& ctx) = 0;
  // Writes every record of the batch durably (as far as the sink can) before returning. Records the
  // destination refuses (a constraint, say) move to batch.rejects; every other record is counted.
  virtual WriteCounts write(Batch& batch) = 0;
  // A sink may finish a batch after write() returned (its database work overlapping the next batch's
  // preparation): write() then returns the counts and rejects of batches finished since, and drain(),
  // called once the graph has ended (also after a failure or a stop), those of the rest.
  virtual LateRows drain() { return {}; }
  // Finishes the output; `complete` is false when the run stopped early or failed. Returns what was
  // counted as written but is not kept after all (an all-or-nothing run rolled back).
  virtual WriteCounts close(bool complete) = 0;
  // After close(): what a full-feed sync did.
  virtual SyncOutcome sync() const { return {}; }
  // After close(): what a sink that keeps URL check history found changed since the previous checks.
  virtual HealthChanges health_changes() const { return {}; }
};

using NodeBody = std::variant<std::unique_ptr<SourceNode>, std::unique_ptr<TransformNode>, std::unique_ptr<SinkNode>,
                              std::unique_ptr<AsyncTransformNode>, std::unique_ptr<RouterNode>>;

}  // namespace sluice
