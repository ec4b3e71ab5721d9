// Runs a plan as a tbb::flow::graph inside its own task arena and accounts for every row.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/plan.hpp"
#include "nodes/sink/rejects_writer.hpp"

namespace sluice {

struct NodeCounts {
  std::string id;
  std::string type;
  std::uint64_t in = 0;        // records received
  std::uint64_t out = 0;       // records passed on (or written, for a sink)
  std::uint64_t rejected = 0;  // records this node rejected
  double busy_seconds = 0;     // summed over all the node's concurrent calls
};

struct FlowResult {
  std::uint64_t read = 0;           // input rows, including those rejected by the source
  WriteCounts sink;                 // what the sink did with the rows that reached it
  std::uint64_t rejected = 0;       // rows in the rejects output
  std::uint64_t not_processed = 0;  // rows read but not finished (or not kept) when the run stopped
  bool stopped = false;             // stopped early on request (deadline, signal)
  bool budget_exceeded = false;     // more rejects than the supplier's error budget allows
  std::exception_ptr error;         // a fatal error, already wrapped with the failing node's name
  std::vector<NodeCounts> nodes;
  std::uint64_t bytes_read = 0;
  int threads = 0;
  std::chrono::duration<double> wall{};

  bool identity_holds() const { return read == sink.total() + rejected + not_processed; }
};

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
  Flow(Plan& plan, RejectsWriter& rejects) : plan_(plan), rejects_(rejects) {}

  // Opens every node (StartupError escapes from here), runs the graph to the end and closes the
  // nodes. Fatal errors are returned in the result, not thrown.
  FlowResult run(const RunContext& ctx);

  // Asks a running flow to stop reading; rows already read still finish. Safe from any thread.
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }

  // Called with each group of rejects as it is written (the run's ledger keeps them too).
  std::function<void(const std::vector<Reject>&, const std::vector<std::string>*)> on_rejects;

 private:
  Plan& plan_;
  RejectsWriter& rejects_;
  std::atomic<bool> stop_{false};
};

}  // namespace sluice
