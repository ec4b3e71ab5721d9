// Per-node and per-edge counts of a run, and the conservation check over them.
#include "graph/flow_tally.hpp"

#include <variant>

namespace sluice {

std::uint64_t NodeTally::out() const {
  std::uint64_t n = 0;
  for (const auto& p : ports) n += p.load();
  return n;
}

FlowTally::FlowTally(const Plan& plan) : edges_(std::make_unique<EdgeTally[]>(plan.edges.size())) {
  for (const auto& p : plan.nodes) nodes_.push_back(std::make_unique<NodeTally>(p.ports.size()));
}

std::vector<NodeCounts> FlowTally::node_counts(const Plan& plan) const {
  std::vector<NodeCounts> out;
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    const PlannedNode& p = plan.nodes[i];
    const NodeTally& s = *nodes_[i];
    NodeCounts n;
    n.id = p.entry->id;
    n.type = std::string(p.type->name);
    n.in = s.in;
    for (std::size_t k = 0; k < p.ports.size(); ++k) n.ports.emplace_back(p.ports[k], s.ports[k].load());
    n.written = s.written;
    n.out = p.type->role == NodeRole::sink ? n.written : s.out();
    n.rejected = s.rejected;
    n.filtered = s.filtered;
    n.skipped = s.skipped;
    const std::uint64_t ended = s.out() + n.rejected + n.filtered + n.skipped + n.written;
    n.not_processed = n.in > ended ? n.in - ended : 0;
    n.condition = std::visit(
        [](const auto& body) -> std::string {
          using T = std::decay_t<decltype(*body)>;
          if constexpr (std::is_same_v<T, TransformNode> || std::is_same_v<T, RouterNode>)
            return body ? body->filter_condition() : std::string();
          else
            return {};
        },
        p.body);
    n.calls = s.latency.count();
    n.busy_seconds = static_cast<double>(s.busy_ns.load()) / 1e9;
    n.retries = std::visit([](const auto& body) { return body ? body->retries() : 0; }, p.body);
    n.p50 = static_cast<double>(s.latency.percentile(0.50)) / 1e9;
    n.p95 = static_cast<double>(s.latency.percentile(0.95)) / 1e9;
    n.p99 = static_cast<double>(s.latency.percentile(0.99)) / 1e9;
    n.max = static_cast<double>(s.latency.max()) / 1e9;
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<EdgeCounts> FlowTally::edge_counts(const Plan& plan) const {
  std::vector<EdgeCounts> out;
  for (std::size_t i = 0; i < plan.edges.size(); ++i) {
    const PlannedEdge& e = plan.edges[i];
    out.push_back(EdgeCounts{plan.nodes[e.from].entry->id, plan.nodes[e.from].ports[e.from_port],
                             plan.nodes[e.to].entry->id, edges_[i].sent.load(), edges_[i].received.load()});
  }
  return out;
}

std::optional<std::string> FlowTally::conservation_error(const Plan& plan, bool complete) const {
  for (std::size_t i = 0; i < plan.edges.size(); ++i) {
    const PlannedEdge& e = plan.edges[i];
    const std::string name = plan.nodes[e.from].entry->id + "." + plan.nodes[e.from].ports[e.from_port] + " -> " +
                             plan.nodes[e.to].entry->id;
    const std::uint64_t sent = edges_[i].sent, received = edges_[i].received;
    if (received > sent)
      return "edge " + name + " delivered " + std::to_string(received) + " records but was sent " +
             std::to_string(sent);
    if (sent != nodes_[e.from]->ports[e.from_port].load())
      return "edge " + name + " was sent " + std::to_string(sent) + " records but its port put out " +
             std::to_string(nodes_[e.from]->ports[e.from_port].load());
    if (complete && received != sent)
      return "edge " + name + " lost " + std::to_string(sent - received) + " records in a complete run";
  }
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    const NodeTally& s = *nodes_[i];
    const std::string& id = plan.nodes[i].entry->id;
    std::uint64_t received = 0;
    for (std::size_t e : plan.in_edges(i)) received += edges_[e].received;
    if (i != 0 && received != s.in)
      return "node '" + id + "' counted " + std::to_string(s.in.load()) + " records in but its edges delivered " +
             std::to_string(received);
    const std::uint64_t ended = s.out() + s.rejected + s.filtered + s.skipped + s.written;
    if (ended > s.in)
      return "node '" + id + "' put out, rejected, filtered or wrote " + std::to_string(ended) + " records of the " +
             std::to_string(s.in.load()) + " it received";
    if (complete && ended != s.in)
      return "node '" + id + "' left " + std::to_string(s.in - ended) + " of its records unfinished in a complete run";
  }
  return std::nullopt;
}

}  // namespace sluice
