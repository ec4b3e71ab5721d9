// Reader of graph files.
#include "config/graph_file.hpp"

#include <algorithm>
#include <set>

#include "core/datetime.hpp"

namespace sluice {
namespace {

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// "node" or "node.port"
void split_endpoint(const std::string& text, std::string& node, std::string& port, const char* default_port) {
  auto dot = text.find('.');
  node = text.substr(0, dot);
  port = dot == std::string::npos ? default_port : text.substr(dot + 1);
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

const ObjectSpec& top_spec() {
  static const ObjectSpec spec{{
      {"run", Kind::object, "run settings", false, "", {}, {}, {}, &run_spec()},
      {"nodes", Kind::list, "the nodes: a list of maps with id, type and the type's settings", true},
      {"edges", Kind::list, "the edges: a list of 'from -> to' or {from: a, to: b}", true},
  }};
  return spec;
}

}  // namespace

const ObjectSpec& run_spec() {
  static const ObjectSpec spec{{
      {"threads", Kind::integer_or_auto, "worker threads of the task arena; auto = one per core", false, "auto", 1,
       256},
      {"batch_size", Kind::integer, "records per message between nodes", false, "1000", 1, 1'000'000},
      {"in_flight", Kind::integer, "most records between source and sinks at once (bounds memory)", false, "16000", 1,
       100'000'000},
      {"ordered", Kind::boolean, "sinks write records in input order", false, "true"},
      {"deadline", Kind::duration, "cancel the run after this long (30s, 10m, 1h30m); `--deadline` overrides"},
      {"rejects", Kind::path, "file that receives every rejected row as NDJSON (`--rejects` overrides)", false,
       "rejects.ndjson"},
      {"as_of", Kind::string,
       "the instant sale windows and dated discounts are judged at (e.g. 2026-11-27T00:00:00Z); default: the run's "
       "start; `--as-of` overrides"},
  }};
  return spec;
}

GraphFile read_graph_file(const Document& doc, Diagnostics& diags) {
  GraphFile g;
  const YAML::Node& root = doc.root();
  if (!root.IsMap()) {
    diags.add(doc.at(root, "",
                     root.IsNull() ? "the file is empty; expected a map with run, nodes and edges"
                                   : "expected a map with run, nodes and edges, got " + std::string(kind_name(root))));
    return g;
  }
  check_object(doc, root, top_spec(), "", diags);

  Settings run(lookup(root, {"run"}), &run_spec());
  {
    g.run.threads = run.integer_or_auto("threads");
    g.run.batch_size = run.integer("batch_size");
    g.run.in_flight = run.integer("in_flight");
    g.run.ordered = run.boolean("ordered");
    g.run.rejects = run.string("rejects");
    g.run.deadline = run.duration("deadline");
    if (run.has("as_of")) {
      auto t = parse_datetime(run.string("as_of"));
      if (t)
        g.run.as_of = t.value->seconds;
      else
        diags.add(doc.at(run.node("as_of"), "run.as_of",
                         "expected a date-time with a zone such as 2026-11-27T00:00:00Z: " + t.error));
    }
  }

  const YAML::Node nodes = lookup(root, {"nodes"});
  std::set<std::string> ids;
  if (nodes.IsSequence()) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const YAML::Node n = nodes[i];
      std::string path = "nodes[" + std::to_string(i) + "]";
      if (!n.IsMap()) {
        diags.add(doc.at(n, path, "expected a map with id and type, got " + std::string(kind_name(n))));
        continue;
      }
      NodeEntry e;
      e.index = i;
      e.settings = n;
      const YAML::Node id = lookup(n, {"id"});
      const YAML::Node type = lookup(n, {"type"});
      if (!id || !id.IsScalar()) {
        diags.add(doc.at(
            id, path + ".id",
            !id || id.IsNull() ? "missing required key 'id'" : "expected a string, got " + std::string(kind_name(id)),
            n));
        continue;
      }
      e.id = id.Scalar();
      if (!is_identifier(e.id)) {
        diags.add(doc.at(id, path + ".id",
                         "'" + e.id + "' is not a valid id (letters, digits, '_' and '-', starting with a letter)"));
        continue;
      }
      if (!ids.insert(e.id).second) {
        diags.add(doc.at(id, path + ".id", "id '" + e.id + "' is used by another node"));
        continue;
      }
      if (!type || !type.IsScalar()) {
        diags.add(doc.at(type, e.path() + ".type",
                         !type || type.IsNull() ? "missing required key 'type'"
                                                : "expected a string, got " + std::string(kind_name(type)),
                         n));
        continue;
      }
      e.type = type.Scalar();
      g.nodes.push_back(std::move(e));
    }
  }

  const YAML::Node edges = lookup(root, {"edges"});
  if (edges.IsSequence()) {
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const YAML::Node e = edges[i];
      std::string path = "edges[" + std::to_string(i) + "]";
      EdgeEntry edge;
      edge.where = e;
      edge.index = i;
      std::string from, to;
      if (e.IsScalar()) {
        auto arrow = e.Scalar().find("->");
        if (arrow == std::string::npos) {
          diags.add(doc.at(e, path, "expected 'from -> to', got '" + e.Scalar() + "'"));
          continue;
        }
        from = trim(e.Scalar().substr(0, arrow));
        to = trim(e.Scalar().substr(arrow + 2));
        edge.from_where = edge.to_where = e;
        edge.from_offset = e.Scalar().find_first_not_of(" \t");
        edge.to_offset = std::min(e.Scalar().size(), e.Scalar().find_first_not_of(" \t", arrow + 2));
      } else if (e.IsMap()) {
        static const ObjectSpec edge_spec{
            {{"from", Kind::string, "source node[.port]", true}, {"to", Kind::string, "target node[.port]", true}}};
        if (!check_object(doc, e, edge_spec, path, diags, e)) continue;
        from = e["from"].Scalar();
        to = e["to"].Scalar();
        edge.from_where = e["from"];
        edge.to_where = e["to"];
      } else {
        diags.add(doc.at(e, path, "expected 'from -> to' or a map with from and to, got " + std::string(kind_name(e))));
        continue;
      }
      if (from.empty() || to.empty()) {
        diags.add(doc.at(e, path, "an edge needs a node on both sides of '->'"));
        continue;
      }
      split_endpoint(from, edge.from, edge.from_port, "out");
      split_endpoint(to, edge.to, edge.to_port, "in");
      g.edges.push_back(std::move(edge));
    }
  }
  return g;
}

}  // namespace sluice
