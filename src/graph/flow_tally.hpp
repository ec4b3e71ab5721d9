// The counters a running flow keeps per node and per edge, and the conservation they must satisfy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/histogram.hpp"
#include "graph/flow.hpp"

namespace sluice {

struct NodeTally {
  std::atomic<std::uint64_t> in{0}, rejected{0}, filtered{0}, skipped{0}, written{0}, busy_ns{0};
  std::vector<std::atomic<std::uint64_t>> ports;  // records out of each data port
  LatencyHistogram latency;                       // per call (a batch)

  explicit NodeTally(std::size_t port_count) : ports(port_count) {}
  std::uint64_t out() const;
};

struct EdgeTally {
  std::atomic<std::uint64_t> sent{0}, received{0};
};

// Lives for one run; every counter is safe to bump from any thread.
class FlowTally {
 public:
  explicit FlowTally(const Plan& plan);

  NodeTally& node(std::size_t i) { return *nodes_[i]; }
  const NodeTally& node(std::size_t i) const { return *nodes_[i]; }
  EdgeTally& edge(std::size_t i) { return edges_[i]; }
  NodeTally& rejects() { return rejects_; }

  // Rows of the main input: read, ended one way or another, and still somewhere in the graph.
  std::atomic<std::uint64_t> read{0}, rejected{0}, finished{0}, skipped{0}, other_shard{0}, copies{0}, filtered{0};
  std::atomic<std::uint64_t> side_rejected{0};
  std::atomic<std::int64_t> in_flight{0};
  // The source's byte counters, copied by the input node: the source itself is not thread-safe.
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::int64_t> bytes_total{-1};

  // Per node and per edge, with the nodes' conditions and retries.
  std::vector<NodeCounts> node_counts(const Plan& plan) const;
  std::vector<EdgeCounts> edge_counts(const Plan& plan) const;
  // What breaks conservation at a node or along an edge; a run that stopped early may leave rows
  // unfinished (not_processed) but never unaccounted. `complete`: every row must be finished too.
  std::optional<std::string> conservation_error(const Plan& plan, bool complete) const;

 private:
  std::vector<std::unique_ptr<NodeTally>> nodes_;
  std::unique_ptr<EdgeTally[]> edges_;
  NodeTally rejects_{0};
};

}  // namespace sluice
