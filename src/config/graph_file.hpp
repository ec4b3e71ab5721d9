// The graph file: run settings, node entries and edges, read and checked for shape.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "config/spec.hpp"

namespace sluice {

struct RunSettings {
  std::optional<std::int64_t> threads;                // nullopt = one per core
  std::int64_t batch_size = 1000;                     // records per message
  std::int64_t in_flight = 16000;                     // records between source and sinks at most
  bool ordered = true;                                // sinks see records in source order
  std::string rejects = "rejects.ndjson";             // the run's rejects output
  std::optional<std::chrono::milliseconds> deadline;  // the run is cancelled after this long
  std::optional<std::int64_t> as_of;                  // seconds since the epoch; default: the run's start
};

struct NodeEntry {
  std::string id;
  std::string type;
  YAML::Node settings;  // the whole entry; "id" and "type" are not settings
  std::size_t index = 0;
  std::string path() const { return "nodes[" + std::to_string(index) + "] (" + id + ")"; }
};

struct EdgeEntry {
  std::string from, from_port;  // port defaults to "out"
  std::string to, to_port;      // port defaults to "in"
  YAML::Node where;
  YAML::Node from_where, to_where;             // what names each end: the 'a -> b' text, or from: / to:
  std::size_t from_offset = 0, to_offset = 0;  // where each name starts inside it
  std::size_t index = 0;
};

struct GraphFile {
  RunSettings run;
  std::vector<NodeEntry> nodes;
  std::vector<EdgeEntry> edges;
};

const ObjectSpec& run_spec();

// Checks the file's shape (keys, run settings, ids, edge syntax); node types and the topology
// are checked against the node registry by the graph planner.
GraphFile read_graph_file(const Document& doc, Diagnostics& diags);

}  // namespace sluice
