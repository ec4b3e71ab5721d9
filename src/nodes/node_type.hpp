// Node types: the spec, documentation and factory of each kind of node, and the list of built-ins.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/document.hpp"
#include "config/graph_file.hpp"
#include "config/spec.hpp"
#include "config/supplier.hpp"
#include "nodes/node.hpp"

namespace sluice {

enum class NodeRole { source, transform, sink };
std::string_view to_string(NodeRole);

// Everything a factory may look at. Problems go to diags, positioned in the graph or supplier file.
struct NodeBuildContext {
  const NodeEntry& entry;
  const Document& graph_doc;
  Settings settings;  // the node's settings, checked against its spec
  const Supplier& supplier;
  const Document& supplier_doc;
  Schema& schema;  // fields of the run's records; nodes add what they produce
  Diagnostics& diags;

  void error(const YAML::Node& where, const std::string& key, const std::string& message) const;
};

struct NodeType {
  std::string_view name;
  NodeRole role;
  bool can_reject;  // has a rejects port
  std::string_view summary;
  const ObjectSpec& (*spec)();
  std::string_view example;  // a YAML node entry that builds
  NodeBody (*make)(NodeBuildContext& ctx);
  bool needs_database = false;  // the run connects, takes the supplier lock and keeps a ledger
  bool needs_supplier = true;   // reads the supplier file's rules; false: runs without one
  // The output ports (besides "rejects") when the node's settings name them (a router's cases); null:
  // "out" for every role but a sink. Called on unchecked settings: must not throw.
  std::vector<std::string> (*ports_from_settings)(const YAML::Node& entry) = nullptr;

  std::vector<std::string> input_ports() const;
  // The node's output ports: its data ports first, in order (what RouterNode::route's outs index),
  // then "rejects" when it can reject.
  std::vector<std::string> output_ports(const YAML::Node& entry = YAML::Node()) const;
};

// Every built-in node type, in the order `sluice nodes` lists them.
const std::vector<NodeType>& builtin_nodes();
const NodeType* find_node_type(std::string_view name);

}  // namespace sluice
