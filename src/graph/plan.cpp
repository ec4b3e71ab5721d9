// Topology checks and node construction.
#include "graph/plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace sluice {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

ObjectSpec merged(const ObjectSpec& a, const ObjectSpec& b) {
  ObjectSpec out = a;
  out.fields.insert(out.fields.end(), b.fields.begin(), b.fields.end());
  return out;
}

}  // namespace

const ObjectSpec& common_spec(NodeRole role) {
  static const ObjectSpec none{};
  static const ObjectSpec transform{{
      {"concurrency", Kind::integer_or_auto, "batches this node works on at once; auto = as many as there are threads",
       false, "auto", 1, 4096},
  }};
  return role == NodeRole::transform ? transform : none;
}

std::unique_ptr<Plan> plan_graph(const GraphFile& graph, const Document& graph_doc, const Supplier& supplier,
                                 const Document& supplier_doc, Diagnostics& diags) {
  std::size_t errors_before = diags.size();
  // Earlier problems (in the supplier file, say) do not stop the topology checks, so that everything
  // is reported at once; they do stop node construction, which relies on a well-formed supplier.
  const bool inputs_clean = diags.empty();
  auto plan = std::make_unique<Plan>();
  plan->run = graph.run;
  plan->budget = ErrorBudget{supplier.max_rejects, supplier.max_reject_ratio};

  // Types and settings.
  std::map<std::string, const NodeEntry*> by_id;
  std::map<std::string, const NodeType*> type_of;
  std::map<std::string, ObjectSpec> spec_of;
  std::vector<std::string> type_names;
  for (const auto& t : builtin_nodes()) type_names.emplace_back(t.name);
  for (const auto& e : graph.nodes) {
    by_id[e.id] = &e;
    const NodeType* t = find_node_type(e.type);
    if (!t) {
      std::string msg = "unknown node type '" + e.type + "'";
      std::string hint = did_you_mean(e.type, type_names);
      msg += hint.empty() ? " (known types: " + join(type_names) + ")" : " (did you mean '" + hint + "'?)";
      diags.add(graph_doc.at(e.settings["type"], e.path() + ".type", msg));
      continue;
    }
    type_of[e.id] = t;
    spec_of[e.id] = merged(t->spec(), common_spec(t->role));
    check_object(graph_doc, e.settings, spec_of[e.id], e.path(), diags, e.settings, {"id", "type"});
  }

  // Edges.
  std::vector<std::string> ids;
  for (const auto& e : graph.nodes) ids.push_back(e.id);
  const YAML::Node nodes = lookup(graph_doc.root(), {"nodes"});
  const YAML::Node edges = lookup(graph_doc.root(), {"edges"});
  std::set<std::string> in_file;  // ids of every entry, also of those that were not read
  if (nodes.IsSequence())
    for (const auto& n : nodes)
      if (YAML::Node id = lookup(n, {"id"}); id.IsScalar()) in_file.insert(id.Scalar());
  std::map<std::string, std::vector<std::string>> next, prev;  // node ids, once per edge
  std::set<std::tuple<std::string, std::string, std::string>> seen_edges;  // from, port, to
  std::map<std::pair<std::string, std::string>, const EdgeEntry*> edge_of;
  std::vector<const EdgeEntry*> kept_edges;
  std::map<std::string, std::vector<std::string>> ports_of;  // data output ports of each typed node
  for (const auto& e : graph.nodes)
    if (const NodeType* t = type_of.count(e.id) ? type_of[e.id] : nullptr) {
      auto ports = t->output_ports(e.settings);
      ports.erase(std::remove(ports.begin(), ports.end(), "rejects"), ports.end());
      ports_of[e.id] = ports;
    }
  for (const auto& edge : graph.edges) {
    std::string path = "edges[" + std::to_string(edge.index) + "]";
    bool ok = true;
    auto at_from = [&](std::string msg) {
      return graph_doc.at(edge.from_where, edge.from_offset, path, std::move(msg));
    };
    auto at_to = [&](std::string msg) { return graph_doc.at(edge.to_where, edge.to_offset, path, std::move(msg)); };
    for (const auto* end : {&edge.from, &edge.to}) {
      if (by_id.count(*end)) continue;
      ok = false;
      if (in_file.count(*end)) continue;  // a node entry reported as malformed already
      std::string msg = "unknown node '" + *end + "'";
      std::string hint = did_you_mean(*end, ids);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      diags.add(end == &edge.from ? at_from(msg) : at_to(msg));
    }
    if (!ok) continue;
    const NodeType* from_type = type_of.count(edge.from) ? type_of[edge.from] : nullptr;
    const NodeType* to_type = type_of.count(edge.to) ? type_of[edge.to] : nullptr;
    if (from_type) {
      auto ports = from_type->output_ports(by_id[edge.from]->settings);
      if (edge.from_port == "rejects" && from_type->can_reject) {
        diags.add(at_from("the rejects port of '" + edge.from +
                          "' goes to the run's rejects output by itself; "
                          "remove this edge"));
        ok = false;
      } else if (std::find(ports.begin(), ports.end(), edge.from_port) == ports.end()) {
        diags.add(at_from("node '" + edge.from + "' (" + std::string(from_type->name) + ") has no output port '" +
                          edge.from_port + "'" +
                          (ports.empty() ? " (it has no outputs)" : " (outputs: " + join(ports) + ")")));
        ok = false;
      }
    }
    if (to_type) {
      auto ports = to_type->input_ports();
      if (std::find(ports.begin(), ports.end(), edge.to_port) == ports.end()) {
        diags.add(at_to("node '" + edge.to + "' (" + std::string(to_type->name) + ") has no input port '" +
                        edge.to_port + "'" +
                        (ports.empty() ? " (it has no inputs)" : " (inputs: " + join(ports) + ")")));
        ok = false;
      }
    }
    if (!ok) continue;
    if (!seen_edges.insert({edge.from, edge.from_port, edge.to}).second) {
      diags.add(graph_doc.at(edge.where, path, "edge " + edge.from + "." + edge.from_port + " -> " + edge.to +
                                                   " is given twice"));
      continue;
    }
    next[edge.from].push_back(edge.to);
    prev[edge.to].push_back(edge.from);
    edge_of.emplace(std::make_pair(edge.from, edge.to), &edge);
    kept_edges.push_back(&edge);
  }
  if (diags.size() != errors_before) return nullptr;
  // Nodes or edges of the wrong shape are reported already; the topology of what is left says nothing.
  if (!nodes.IsSequence() || !edges.IsSequence() || graph.nodes.size() != nodes.size() ||
      graph.edges.size() != edges.size())
    return nullptr;

  // Cycles first: a node on one has an edge too many, and the cycle is what to fix. A depth-first walk
  // with its own stack, as a graph file may hold very many nodes.
  std::set<std::string> on_cycle;
  {
    std::map<std::string, int> state;                        // 0 unvisited, 1 on the current path, 2 done
    std::vector<std::pair<std::string, std::size_t>> stack;  // node and the next of its edges to follow
    for (const auto& e : graph.nodes) {
      if (state[e.id] != 0) continue;
      state[e.id] = 1;
      stack.emplace_back(e.id, 0);
      while (!stack.empty()) {
        auto& [id, i] = stack.back();
        const auto& out = next[id];
        if (i == out.size()) {
          state[id] = 2;
          stack.pop_back();
          continue;
        }
        const std::string from = id;
        const std::string to = out[i++];
        if (state[to] == 0) {
          state[to] = 1;
          stack.emplace_back(to, 0);
        } else if (state[to] == 1) {
          std::string cycle;
          auto start = std::find_if(stack.begin(), stack.end(), [&](const auto& s) { return s.first == to; });
          for (auto it = start; it != stack.end(); ++it) {
            cycle += it->first + " -> ";
            on_cycle.insert(it->first);
          }
          const EdgeEntry* closing = edge_of[{from, to}];
          diags.add(graph_doc.at(closing->where, "edges[" + std::to_string(closing->index) + "]",
                                 "the edges form a cycle: " + cycle + to));
        }
      }
    }
  }

  // Topology: one source; every output port connected, every other node fed.
  const NodeEntry* source = nullptr;
  std::size_t transactional_sinks = 0;
  for (const auto& e : graph.nodes) {
    const NodeType* t = type_of[e.id];
    if (t->role == NodeRole::source) {
      if (source) {
        diags.add(
            graph_doc.at(e.settings, e.path(), "a graph has exactly one source; '" + source->id + "' is one already"));
      } else {
        source = &e;
      }
    }
    for (const auto& port : ports_of[e.id]) {
      bool connected = std::any_of(kept_edges.begin(), kept_edges.end(), [&](const EdgeEntry* x) {
        return x->from == e.id && x->from_port == port;
      });
      if (connected) continue;
      if (port == "out")
        diags.add(graph_doc.at(e.settings, e.path(), "the output of '" + e.id + "' goes nowhere: add an edge from it"));
      else
        diags.add(graph_doc.at(e.settings, e.path(),
                               "the output port '" + port + "' of '" + e.id + "' goes nowhere: add an edge from " +
                                   e.id + "." + port + (t->name == "route" ? " (or set unmatched: discard)" : "")));
    }
    if (t->role != NodeRole::source && prev[e.id].empty())
      diags.add(graph_doc.at(e.settings, e.path(), "nothing feeds '" + e.id + "': add an edge into it"));
    if (plan->run.ordered && prev[e.id].size() > 1 && !on_cycle.count(e.id))
      diags.add(graph_doc.at(e.settings, e.path(),
                             "node '" + e.id + "' has " + std::to_string(prev[e.id].size()) + " incoming edges (" +
                                 join(prev[e.id]) +
                                 "); an ordered graph cannot merge branches, since their records would interleave: "
                                 "give the branches their own sinks, or set run.ordered: false"));
    if (t->role == NodeRole::sink && t->needs_database && supplier.mode == "atomic" && ++transactional_sinks == 2)
      diags.add(graph_doc.at(e.settings, e.path(),
                             "mode: atomic commits the whole run in one transaction, which one database sink "
                             "can do but not two: '" +
                                 e.id + "' is the second"));
  }
  if (!source && !graph.nodes.empty())
    diags.add(graph_doc.at(nodes, "nodes", "the graph has no source node (e.g. csv_source)", graph_doc.root()));
  if (graph.nodes.empty() && nodes.size() == 0)
    diags.add(graph_doc.at(nodes, "nodes", "the graph has no nodes", graph_doc.root()));
  if (diags.size() != errors_before) return nullptr;

  // Topological order from the source (Kahn's): a node comes after every node that feeds it. A node
  // the walk never reaches is not connected to the source.
  std::vector<const NodeEntry*> order;
  {
    std::map<std::string, std::size_t> waiting;
    for (const auto& e : graph.nodes) waiting[e.id] = prev[e.id].size();
    std::vector<const NodeEntry*> ready{source};
    while (!ready.empty()) {
      const NodeEntry* cur = ready.front();
      ready.erase(ready.begin());
      order.push_back(cur);
      for (const auto& to : next[cur->id])
        if (--waiting[to] == 0) ready.push_back(by_id[to]);
    }
  }
  std::set<std::string> reached;
  for (const auto* e : order) reached.insert(e->id);
  for (const auto& e : graph.nodes) {
    if (!reached.count(e.id))
      diags.add(graph_doc.at(e.settings, e.path(),
                             "node '" + e.id + "' is not connected to the source '" + source->id + "'"));
  }
  if (diags.size() != errors_before) return nullptr;

  if (!inputs_clean) return nullptr;

  // Build in flow order, so that fields appear in the order the nodes add them.
  std::map<std::string, std::size_t> index_of;
  for (const NodeEntry* e : order) {
    PlannedNode p;
    p.entry = e;
    p.type = type_of[e->id];
    p.ports = ports_of[e->id];
    index_of[e->id] = plan->nodes.size();
    if (p.type->needs_database) plan->needs_database = true;
    if (p.type->needs_supplier && supplier.defaulted) {
      diags.add(graph_doc.at(e->settings, e->path(),
                             "a " + std::string(p.type->name) +
                                 " node reads the supplier's rules: give the supplier file with --supplier"));
      continue;
    }
    Settings settings(e->settings, &spec_of[e->id]);
    NodeBuildContext ctx{*e, graph_doc, settings, supplier, supplier_doc, plan->schema, diags};
    p.body = p.type->make(ctx);
    if (p.type->role == NodeRole::transform) {
      auto c = settings.integer_or_auto("concurrency");
      p.concurrency = c ? static_cast<std::size_t>(*c) : 0;
    }
    bool built = std::visit([](const auto& ptr) { return ptr != nullptr; }, p.body);
    if (!built && diags.size() == errors_before)
      diags.add(graph_doc.at(e->settings, e->path(), "node could not be built"));
    plan->nodes.push_back(std::move(p));
  }
  if (diags.size() != errors_before) return nullptr;
  for (const EdgeEntry* x : kept_edges) {
    const auto& ports = plan->nodes[index_of[x->from]].ports;
    auto port = static_cast<std::size_t>(std::find(ports.begin(), ports.end(), x->from_port) - ports.begin());
    plan->edges.push_back(PlannedEdge{index_of[x->from], port, index_of[x->to]});
  }
  plan->key_field = plan->schema.find(supplier.key);
  return plan;
}

}  // namespace sluice

namespace sluice {

std::vector<std::size_t> Plan::out_edges(std::size_t node, std::size_t port) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < edges.size(); ++i)
    if (edges[i].from == node && edges[i].from_port == port) out.push_back(i);
  return out;
}

std::vector<std::size_t> Plan::in_edges(std::size_t node) const {
  std::vector<std::size_t> in;
  for (std::size_t i = 0; i < edges.size(); ++i)
    if (edges[i].to == node) in.push_back(i);
  return in;
}

void Plan::connect_chain() {
  edges.clear();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].ports.empty() && nodes[i].type && nodes[i].type->role != NodeRole::sink) nodes[i].ports = {"out"};
    if (i + 1 < nodes.size()) edges.push_back(PlannedEdge{i, 0, i + 1});
  }
}

}  // namespace sluice
