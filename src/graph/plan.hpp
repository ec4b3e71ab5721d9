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
  std::vector<std::string> ports{};  // data output ports, in the order a router's outs index them
};

// One edge between data ports; a port with several edges sends each of them its own copy.
struct PlannedEdge {
  std::size_t from = 0, from_port = 0;  // from_port indexes nodes[from].ports
  std::size_t to = 0;
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
  std::vector<PlannedNode> nodes;  // in topological order: the source first, each node after all that feed it
  std::vector<PlannedEdge> edges;

  std::vector<std::size_t> out_edges(std::size_t node, std::size_t port) const;  // indexes into edges
  std::vector<std::size_t> in_edges(std::size_t node) const;
  // Links each node's first port to the next node: a chain, for plans put together in code. Nodes
  // without ports get "out" unless they are sinks.
  void connect_chain();

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
