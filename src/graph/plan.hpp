// From checked configuration to node bodies in flow order: the topology rules live here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/graph_file.hpp"
#include "config/supplier.hpp"
#include "nodes/node_type.hpp"

namespace sluice {

struct PlannedNode {
  const NodeEntry* entry = nullptr;
  const NodeType* type = nullptr;
  NodeBody body;
  std::size_t concurrency = 0;  // transforms: batches at once; 0 = unlimited
};

// Nodes hold references into the plan (its schema) and into the documents and supplier it was
// built from: all of them must outlive it, and a plan never moves.
struct ErrorBudget {
  std::optional<std::int64_t> max_rejects;
  std::optional<Decimal> max_reject_ratio;
};

struct Plan {
  RunSettings run;
  ErrorBudget budget;
  bool needs_database = false;  // a node talks to PostgreSQL: the run takes the lock and keeps a ledger
  Schema schema;
  std::optional<std::size_t> key_field;  // the supplier's key in the schema: what --shard hashes
  std::vector<PlannedNode> chain;  // source first, sink last

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
};

// Checks node types, node settings and the topology, then builds every node. Every problem is
// reported to diags; the result is null when there was any.
std::unique_ptr<Plan> plan_graph(const GraphFile& graph, const Document& graph_doc, const Supplier& supplier,
                                 const Document& supplier_doc, Diagnostics& diags);

// Settings every node of a role accepts besides its own.
const ObjectSpec& common_spec(NodeRole role);

}  // namespace sluice
