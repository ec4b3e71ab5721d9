// `sluice graph --dot`: the graph in Graphviz, optionally with a finished run's counts on its edges.
#pragma once

#include <string>

#include "config/graph_file.hpp"

namespace sluice {

// report_path: a run's --report JSON, or "" for the bare topology. Throws on an unreadable report.
std::string render_dot(const GraphFile& graph, const std::string& report_path);

}  // namespace sluice
