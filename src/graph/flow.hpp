// Runs a plan as a dataflow graph inside its own task arena and accounts for every row.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "graph/plan.hpp"
#include "nodes/sink/rejects_writer.hpp"

namespace sluice {

// Why a run ended before its input did.
enum class StopReason { none, error_budget, deadline, interrupted, lock_lost };
std::string_view to_string(StopReason);

// What one node did with the rows it received. Conservation: in = sum of ports + rejected + filtered
// + skipped + written + not_processed, checked at the end of every run.
struct NodeCounts {
  std::string id;
  std::string type;
  std::uint64_t in = 0;                       // records received (a source: rows read)
  std::uint64_t out = 0;                      // records passed on, over all ports (or written, for a sink)
  std::vector<std::pair<std::string, std::uint64_t>> ports;  // records sent out of each data port
  std::uint64_t rejected = 0;                 // records this node rejected
  std::uint64_t filtered = 0;                 // records dropped on purpose (a filter, a router's discard)
  std::string condition;                      // what dropped them
  std::uint64_t skipped = 0;                  // a source: rows that are not products or belong to another shard
  std::uint64_t written = 0;                  // a sink: records written, inserted, updated or found unchanged
  std::uint64_t not_processed = 0;            // received but not finished when the run stopped
  std::uint64_t calls = 0;                    // batches handled
  std::uint64_t retries = 0;                  // operations the node tried again
  double busy_seconds = 0;                    // summed over all the node's concurrent calls
  double p50 = 0, p95 = 0, p99 = 0, max = 0;  // seconds per batch
};

// What travelled along one edge. Rows sent but never received were queued when the run stopped.
struct EdgeCounts {
  std::string from, port, to;
  std::uint64_t sent = 0, received = 0;
};

// What one sink did: the identity of its branch is in = written + rejected + not_processed.
struct SinkCounts {
  std::string id;
  std::string type;
  WriteCounts counts;
  std::uint64_t in = 0, rejected = 0, not_processed = 0;
  bool identity_holds() const { return in == counts.total() + rejected + not_processed; }
};

struct FlowResult {
  std::uint64_t read = 0;           // input rows, including those rejected by the source
  WriteCounts sink;                 // what the sinks did with the rows that reached them, summed
  std::vector<SinkCounts> sinks;    // each sink's own counts, in plan order
  std::uint64_t copies = 0;         // extra records made where a port feeds several edges
  std::uint64_t filtered = 0;       // records dropped on purpose by filters and routers
  SyncOutcome sync;                 // what a full-feed sync did once the rows were written
  std::optional<CheckReport> checks;  // what a URL check found (a graph with an http_check node)
  HealthChanges health;               // what a URL history sink found changed since the previous checks
  std::uint64_t rejected = 0;       // rows in the rejects output
  std::uint64_t not_processed = 0;  // rows read but not finished (or not kept) when the run stopped
  std::uint64_t skipped = 0;        // rows that are not products (image-only, parent rows), by the supplier's rules
  std::uint64_t other_shard = 0;    // rows another worker of a sharded run keeps (--shard)
  StopReason stop = StopReason::none;
  std::exception_ptr error;  // a fatal error, already wrapped with the failing node's name
  std::vector<NodeCounts> nodes;
  std::vector<EdgeCounts> edges;
  std::uint64_t side_rejected = 0;  // rows of supplemental inputs refused (in the rejects output, not in `read`)
  std::map<std::string, std::uint64_t> side_rejects_by_code;
  std::uint64_t bytes_read = 0;
  std::optional<std::uint64_t> bytes_total;
  int threads = 0;
  std::chrono::duration<double> wall{};

  // Every row read, and every copy a fan-out made, ends exactly once: written by a sink, rejected,
  // filtered, skipped, kept by another shard or not processed. A chain makes no copies.
  bool identity_holds() const {
    return read + copies == sink.total() + rejected + filtered + skipped + other_shard + not_processed;
  }
};

// A live view of a running flow, for progress lines.
struct FlowSnapshot {
  std::uint64_t read = 0, finished = 0, rejected = 0, bytes_read = 0;
  std::optional<std::uint64_t> bytes_total;
  std::vector<std::pair<std::string, std::uint64_t>> node_out;  // records each node passed on
};

class FlowTally;

// A fatal error inside a node, named after it.
class NodeError : public std::runtime_error {
 public:
  NodeError(const std::string& node, const std::string& what)
      : std::runtime_error("node '" + node + "': " + what), node_(node) {}
  const std::string& node() const { return node_; }

 private:
  std::string node_;
};

class Flow {
 public:
  Flow(Plan& plan, RejectsWriter& rejects);
  ~Flow();

  // Opens every node (StartupError escapes from here), runs the graph to the end and closes the
  // nodes. Fatal errors are returned in the result, not thrown.
  FlowResult run(const RunContext& ctx);

  // Ends the run early; the first reason given is the one reported. Graceful (cancel = false): the
  // source stops reading and rows already read finish. Cancelling also drops queued batches (their
  // rows count as not processed) and aborts long operations in the nodes. Safe from any thread.
  void stop(StopReason why, bool cancel);

  // The run is cancelled at this time (a deadline); call before run().
  void set_deadline(std::chrono::steady_clock::time_point at) { deadline_ = at; }

  // Fails the run from any thread (a helper thread's exception): the error is reported as the
  // run's fatal error unless one came first, and the graph is cancelled.
  void fail(std::exception_ptr error);

  // Safe from any thread while run() runs: reads only counters the flow itself keeps.
  FlowSnapshot snapshot() const;

  // Called with each group of rejects as it is written (the run's ledger keeps them too).
  std::function<void(const std::vector<Reject>&, const std::vector<std::string>*)> on_rejects;

 private:
  friend class FlowGraph;
  void abort_nodes();
  void record_failure(std::exception_ptr error);
  // A fatal error that reached no TBB task (an async node's completion on another thread), named
  // after the node.
  void fail_node(const std::string& node, std::exception_ptr error);

  Plan& plan_;
  RejectsWriter& rejects_;
  std::atomic<bool> stop_{false};
  std::atomic<StopReason> reason_{StopReason::none};
  std::optional<std::chrono::steady_clock::time_point> deadline_;

  std::unique_ptr<FlowTally> tally_;

  mutable std::mutex context_mutex_;
  std::function<void()> cancel_graph_;  // while the graph runs
  std::exception_ptr failure_;                          // from fail(), under context_mutex_
  // stop() calls under way on other threads: run() waits for them before it reads failure_, since
  // a stop cancels the graph before its aborts can record a failure.
  int stops_in_progress_ = 0;  // under context_mutex_
  std::condition_variable stops_done_;
};

}  // namespace sluice
