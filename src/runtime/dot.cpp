// Graphviz output; with a report, edges carry row counts and the busiest node is highlighted.
#include "runtime/dot.hpp"

#include <simdjson.h>

#include <cstdio>
#include <map>
#include <tuple>

#include "nodes/node_type.hpp"

namespace sluice {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

struct NodeFigures {
  std::uint64_t in = 0, out = 0, rejected = 0, filtered = 0;
  double busy = 0;
};

using EdgeKey = std::tuple<std::string, std::string, std::string>;  // from, port, to

}  // namespace

std::string render_dot(const GraphFile& graph, const std::string& report_path) {
  std::map<std::string, NodeFigures> figures;
  std::map<EdgeKey, std::uint64_t> sent;  // reports before version 2 have no edges: node outputs stand in
  std::uint64_t read = 0;
  if (!report_path.empty()) {
    simdjson::padded_string json;
    if (simdjson::padded_string::load(report_path).get(json))
      throw std::runtime_error("cannot read report " + report_path);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc)) throw std::runtime_error(report_path + " is not valid JSON");
    simdjson::dom::array nodes;
    if (doc["nodes"].get_array().get(nodes)) throw std::runtime_error(report_path + " is not a sluice report");
    for (auto n : nodes) {
      std::string_view id;
      if (n["id"].get_string().get(id)) continue;
      NodeFigures f;
      std::uint64_t v = 0;
      if (!n["in"].get_uint64().get(v)) f.in = v;
      if (!n["out"].get_uint64().get(v)) f.out = v;
      if (!n["rejected"].get_uint64().get(v)) f.rejected = v;
      if (!n["filtered"].get_uint64().get(v)) f.filtered = v;
      double busy = 0;
      if (!n["busy_seconds"].get_double().get(busy)) f.busy = busy;
      figures[std::string(id)] = f;
    }
    std::uint64_t r = 0;
    if (!doc["accounting"]["read"].get_uint64().get(r)) read = r;
    simdjson::dom::array edges;
    if (!doc["edges"].get_array().get(edges))
      for (auto e : edges) {
        std::string_view from, port, to;
        std::uint64_t v = 0;
        if (e["from"].get_string().get(from) || e["port"].get_string().get(port) || e["to"].get_string().get(to) ||
            e["sent"].get_uint64().get(v))
          continue;
        sent[{std::string(from), std::string(port), std::string(to)}] = v;
      }
  }
  std::string busiest;
  double most = -1;
  for (const auto& [id, f] : figures)
    if (f.busy > most) {
      most = f.busy;
      busiest = id;
    }

  std::string out = "digraph sluice {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
  if (!figures.empty()) out += "  label=\"" + std::to_string(read) + " rows read\";\n";
  bool any_rejects = false;
  for (const auto& n : graph.nodes) {
    std::string lbl = esc(n.id) + "\\n" + esc(n.type);
    std::string style;
    if (auto it = figures.find(n.id); it != figures.end()) {
      char b[64];
      std::snprintf(b, sizeof b, "\\nbusy %.2f s", it->second.busy);
      lbl += b;
      if (it->second.filtered) lbl += "\\nfiltered " + std::to_string(it->second.filtered);
      if (n.id == busiest) style = ", style=filled, fillcolor=\"#ffd27f\"";
    }
    out += "  \"" + esc(n.id) + "\" [label=\"" + lbl + "\"" + style + "];\n";
    const NodeType* t = find_node_type(n.type);
    if (t && t->can_reject) {
      std::string count;
      if (auto it = figures.find(n.id); it != figures.end())
        count = ", label=\"" + std::to_string(it->second.rejected) + "\"";
      out += "  \"" + esc(n.id) + "\" -> \"rejects\" [style=dashed, color=red" + count + "];\n";
      any_rejects = true;
    }
  }
  if (any_rejects)
    out += "  \"rejects\" [shape=note, color=red, label=\"rejects\\n" + esc(graph.run.rejects) + "\"];\n";
  for (const auto& e : graph.edges) {
    std::string label = e.from_port == "out" ? "" : esc(e.from_port);
    if (auto it = sent.find({e.from, e.from_port, e.to}); it != sent.end())
      label += (label.empty() ? "" : ": ") + std::to_string(it->second);
    else if (auto f = figures.find(e.from); f != figures.end() && sent.empty())
      label += (label.empty() ? "" : ": ") + std::to_string(f->second.out);
    out += "  \"" + esc(e.from) + "\" -> \"" + esc(e.to) + "\"" + (label.empty() ? "" : " [label=\"" + label + "\"]") +
           ";\n";
  }
  return out + "}\n";
}

}  // namespace sluice
