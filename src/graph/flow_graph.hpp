// Builds and runs a plan's oneTBB flow graph; its source file is the only one that includes flow-graph headers.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <vector>

#include "graph/flow.hpp"
#include "graph/flow_tally.hpp"

namespace sluice {

// One per sink, for the run: what it wrote and where the error budget stood as its batches arrived.
struct SinkTally {
  std::size_t node = 0;  // index in the plan
  WriteCounts written;   // only the sink's serial node (and the flow, once the graph ended) touches it
  std::atomic<std::uint64_t> rows{0}, rejects{0};  // the budget mark
};

class FlowGraph {
 public:
  FlowGraph(Flow& flow, std::vector<SinkTally>& sinks) : flow_(flow), sinks_(sinks) {}

  // Runs the graph to the end on `threads` threads, then drains the sinks. Returns the first error
  // a node threw (a cancellation is not one).
  std::exception_ptr run(const RunContext& ctx, int threads);

 private:
  Flow& flow_;
  std::vector<SinkTally>& sinks_;
};

}  // namespace sluice
