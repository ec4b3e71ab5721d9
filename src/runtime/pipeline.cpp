// Loading, checking and running a pipeline; the end-of-run summary.
#include "runtime/pipeline.hpp"

#include <cstdio>
#include <sstream>

namespace sluice {
namespace {

void apply_overrides(const std::vector<std::pair<std::string, std::string>>& overrides, Document* graph,
                     Document* supplier, Diagnostics& diags) {
  for (const auto& [key, value] : overrides) {
    std::string origin = "--set " + key + "=" + value;
    if (key.rfind("supplier.", 0) == 0) {
      if (supplier) supplier->set(key.substr(9), value, origin, diags);
    } else if (graph) {
      graph->set(key.rfind("graph.", 0) == 0 ? key.substr(6) : key, value, origin, diags);
    }
  }
}

}  // namespace

std::unique_ptr<Pipeline> load_pipeline(const PipelineOptions& options, Diagnostics& diags) {
  auto p = std::make_unique<Pipeline>();
  p->graph_doc = Document::load(options.graph_path, diags);
  p->supplier_doc = Document::load(options.supplier_path, diags);
  apply_overrides(options.overrides, p->graph_doc ? &*p->graph_doc : nullptr,
                  p->supplier_doc ? &*p->supplier_doc : nullptr, diags);
  if (p->graph_doc) p->graph = read_graph_file(*p->graph_doc, diags);
  if (p->supplier_doc) p->supplier = read_supplier(*p->supplier_doc, diags);
  if (p->graph_doc && p->supplier_doc) p->plan = plan_graph(p->graph, *p->graph_doc, p->supplier, *p->supplier_doc, diags);
  return p;
}

std::optional<GraphFile> load_graph_only(const std::string& path,
                                         const std::vector<std::pair<std::string, std::string>>& overrides,
                                         std::optional<Document>& doc, Diagnostics& diags) {
  doc = Document::load(path, diags);
  if (!doc) return std::nullopt;
  apply_overrides(overrides, &*doc, nullptr, diags);
  GraphFile g = read_graph_file(*doc, diags);
  if (!diags.empty()) return std::nullopt;
  return g;
}

RunOutcome run_pipeline(Pipeline& pipeline, const RunOptions& options) {
  RunOutcome outcome;
  RejectsWriter rejects;
  outcome.rejects_path = options.rejects_path;
  rejects.open(options.rejects_path);
  Flow flow(*pipeline.plan, rejects);
  RunContext ctx;
  ctx.input = options.input;
  outcome.flow = flow.run(ctx);
  try {
    rejects.close();
  } catch (const std::exception& e) {
    if (!outcome.flow.error) outcome.flow.error = std::make_exception_ptr(NodeError("rejects", e.what()));
  }
  outcome.rejects_by_code = rejects.counts_by_code();
  if (outcome.flow.error) {
    try {
      std::rethrow_exception(outcome.flow.error);
    } catch (const std::exception& e) {
      outcome.error = e.what();
    } catch (...) {
      outcome.error = "unknown error";
    }
    outcome.code = ExitCode::failure;
  } else if (outcome.flow.stopped) {
    outcome.code = ExitCode::interrupted;
  } else if (!outcome.flow.identity_holds()) {
    outcome.error = "accounting identity violated";
    outcome.code = ExitCode::failure;
  }
  return outcome;
}

std::string format_summary(const RunOutcome& o, const Pipeline& pipeline) {
  const FlowResult& f = o.flow;
  char buf[512];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  line("sluice run: supplier %s\n", pipeline.supplier.name.c_str());
  line("  %-14s %12llu\n", "read", u(f.read));
  line("  %-14s %12llu\n", "written", u(f.written));
  std::string codes;
  for (const auto& [code, n] : o.rejects_by_code) codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(n);
  line("  %-14s %12llu%s%s%s\n", "rejected", u(f.rejected), codes.empty() ? "" : "  (", codes.c_str(),
       codes.empty() ? "" : ")");
  line("  %-14s %12llu\n", "not processed", u(f.not_processed));
  line("  identity: read %llu %s written %llu + rejected %llu + not processed %llu: %s\n", u(f.read),
       f.identity_holds() ? "=" : "!=", u(f.written), u(f.rejected), u(f.not_processed),
       f.identity_holds() ? "holds" : "VIOLATED");
  line("  %-12s %-12s %12s %12s %10s %9s\n", "node", "type", "in", "out", "rejected", "busy s");
  for (const auto& n : f.nodes)
    line("  %-12s %-12s %12llu %12llu %10llu %9.3f\n", n.id.c_str(), n.type.c_str(), u(n.in), u(n.out),
         u(n.rejected), n.busy_seconds);
  double secs = f.wall.count();
  double rate = secs > 0 ? static_cast<double>(f.read) / secs : 0;
  double mbs = secs > 0 ? static_cast<double>(f.bytes_read) / 1e6 / secs : 0;
  line("  %.3f s, %.0f rows/s, %.1f MB/s, %d threads\n", secs, rate, mbs, f.threads);
  if (f.rejected > 0) line("  rejects: %s\n", o.rejects_path.c_str());
  if (!o.error.empty()) line("  error: %s\n", o.error.c_str());
  return out;
}

}  // namespace sluice
