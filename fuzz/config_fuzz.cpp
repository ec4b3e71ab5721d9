// Fuzz target: a graph file, a supplier file and a --set override, split at NUL bytes, checked as `sluice
// check` does. Every problem must come back as a diagnostic with a position, never as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "graph/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    auto nul = all.find('\0');
    parts[i] = all.substr(0, nul);
    all = nul == std::string_view::npos ? std::string_view{} : all.substr(nul + 1);
  }
  Diagnostics diags;
  auto graph_doc = Document::parse(parts[0], "graph.yaml", diags);
  auto supplier_doc = Document::parse(parts[1], "supplier.yaml", diags);
  if (graph_doc && !parts[2].empty()) {
    auto eq = parts[2].find('=');
    if (eq != std::string_view::npos && eq > 0)
      graph_doc->set(std::string(parts[2].substr(0, eq)), std::string(parts[2].substr(eq + 1)),
                     "--set " + std::string(parts[2]), diags);
  }
  if (!graph_doc || !supplier_doc) {
    if (diags.empty()) std::abort();  // a document that did not load must say why
    return 0;
  }
  GraphFile graph = read_graph_file(*graph_doc, diags);
  Supplier supplier = read_supplier(*supplier_doc, diags);
  auto plan = plan_graph(graph, *graph_doc, supplier, *supplier_doc, diags);
  if (!plan && diags.empty()) std::abort();  // refused without a reason
  (void)diags.format();
  return 0;
}
