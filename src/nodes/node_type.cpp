// Ports and diagnostics shared by all node types.
#include "nodes/node_type.hpp"

namespace sluice {

std::string_view to_string(NodeRole r) {
  switch (r) {
    case NodeRole::source:
      return "source";
    case NodeRole::transform:
      return "transform";
    case NodeRole::sink:
      return "sink";
  }
  return "?";
}

void NodeBuildContext::error(const YAML::Node& where, const std::string& key, const std::string& message) const {
  diags.add(graph_doc.at(where, entry.path() + (key.empty() ? "" : "." + key), message, entry.settings));
}

std::vector<std::string> NodeType::input_ports() const {
  if (role == NodeRole::source) return {};
  return {"in"};
}

std::vector<std::string> NodeType::output_ports(const YAML::Node& entry) const {
  std::vector<std::string> ports;
  if (ports_from_settings)
    ports = ports_from_settings(entry);
  else if (role != NodeRole::sink)
    ports.push_back("out");
  if (can_reject) ports.push_back("rejects");
  return ports;
}

const NodeType* find_node_type(std::string_view name) {
  for (const auto& t : builtin_nodes())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace sluice
