// JSON report and Prometheus metrics of a finished run.
#include "runtime/report.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/json_writer.hpp"
#include "nodes/sink/file_output.hpp"
#include "runtime/check_summary.hpp"
#include "runtime/report_text.hpp"

namespace sluice {
namespace {

using report_text::label;
using report_text::num;
using report_text::str;
using report_text::u;

struct Resources {
  double user = 0, system = 0;
  std::uint64_t peak_rss = 0;
};

Resources resources() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  Resources r;
  r.user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  r.system = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  r.peak_rss = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  return r;
}

std::string ports_json(const NodeCounts& n) {
  std::string out = "{";
  for (const auto& [port, count] : n.ports) out += (out.size() > 1 ? ", " : "") + str(port) + ": " + u(count);
  return out + "}";
}

}  // namespace

std::string utc_now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string render_report(const ReportContext& r) {
  const FlowResult& f = r.outcome.flow;
  const Plan& plan = *r.pipeline.plan;
  Resources res = resources();
  double secs = f.wall.count();
  std::string j = "{\n";
  auto field = [&](const char* k, const std::string& v, bool last = false) {
    j += "  " + str(k) + ": " + v + (last ? "\n" : ",\n");
  };
  field("schema", str(kReportSchema));
  field("sluice_version", str(r.version));
  field("run_id", r.outcome.run_id ? std::to_string(r.outcome.run_id) : "null");
  field("supplier", str(r.pipeline.supplier.name));
  field("graph", str(r.pipeline.graph_doc->name()));
  field("supplier_file", r.pipeline.supplier.defaulted ? "null" : str(r.pipeline.supplier_doc->name()));
  field("input", str(r.options.input.empty() ? "-" : r.options.input));
  field("started_at", str(r.started_at));
  field("finished_at", str(r.finished_at));
  field("dry_run", r.options.dry_run ? "true" : "false");
  field("status", str(status_of(r.outcome.code)));
  field("exit_code", std::to_string(to_int(r.outcome.code)));
  field("error", r.outcome.error.empty() ? "null" : str(r.outcome.error));
  field("accounting", "{\"read\": " + u(f.read) + ", \"written\": " + u(f.sink.written) +
                          ", \"inserted\": " + u(f.sink.inserted) + ", \"updated\": " + u(f.sink.updated) +
                          ", \"unchanged\": " + u(f.sink.unchanged) + ", \"rejected\": " + u(f.rejected) +
                          ", \"skipped\": " + u(f.skipped) + ", \"other_shard\": " + u(f.other_shard) +
                          ", \"not_processed\": " + u(f.not_processed) + ", \"filtered\": " + u(f.filtered) +
                          ", \"copies\": " + u(f.copies) + ", \"side_rejected\": " + u(f.side_rejected) +
                          ", \"identity_holds\": " + (f.identity_holds() ? "true" : "false") + "}");
  std::string codes = "{";
  for (const auto& [code, n] : r.outcome.rejects_by_code)
    codes += (codes.size() > 1 ? ", " : "") + str(code) + ": " + u(n);
  field("rejects_by_code", codes + "}");
  field("rejects_file", str(r.outcome.rejects_path));
  std::string nodes = "[";
  for (std::size_t i = 0; i < f.nodes.size(); ++i) {
    const NodeCounts& n = f.nodes[i];
    nodes += std::string(i ? ",\n    " : "\n    ") + "{\"id\": " + str(n.id) + ", \"type\": " + str(n.type) +
             ", \"in\": " + u(n.in) + ", \"out\": " + u(n.out) + ", \"rejected\": " + u(n.rejected) +
             ", \"filtered\": " + u(n.filtered) + ", \"skipped\": " + u(n.skipped) + ", \"written\": " + u(n.written) +
             ", \"not_processed\": " + u(n.not_processed) +
             ", \"condition\": " + (n.condition.empty() ? std::string("null") : str(n.condition)) +
             ", \"ports\": " + ports_json(n) +
             ", \"retries\": " + u(n.retries) + ", \"batches\": " + u(n.calls) +
             ", \"busy_seconds\": " + num(n.busy_seconds) + ", \"batch_latency_seconds\": {\"p50\": " + num(n.p50) +
             ", \"p95\": " + num(n.p95) + ", \"p99\": " + num(n.p99) + ", \"max\": " + num(n.max) + "}}";
  }
  field("nodes", nodes + "\n  ]");
  std::string edges = "[";
  for (std::size_t i = 0; i < f.edges.size(); ++i) {
    const EdgeCounts& e = f.edges[i];
    edges += std::string(i ? ",\n    " : "\n    ") + "{\"from\": " + str(e.from) + ", \"port\": " + str(e.port) +
             ", \"to\": " + str(e.to) + ", \"sent\": " + u(e.sent) + ", \"received\": " + u(e.received) + "}";
  }
  field("edges", edges + (f.edges.empty() ? "]" : "\n  ]"));
  std::string sinks = "[";
  for (std::size_t i = 0; i < f.sinks.size(); ++i) {
    const SinkCounts& s = f.sinks[i];
    sinks += std::string(i ? ",\n    " : "\n    ") + "{\"id\": " + str(s.id) + ", \"type\": " + str(s.type) +
             ", \"in\": " + u(s.in) + ", \"written\": " + u(s.counts.written) +
             ", \"inserted\": " + u(s.counts.inserted) + ", \"updated\": " + u(s.counts.updated) +
             ", \"unchanged\": " + u(s.counts.unchanged) + ", \"rejected\": " + u(s.rejected) +
             ", \"not_processed\": " + u(s.not_processed) +
             ", \"identity_holds\": " + (s.identity_holds() ? "true" : "false") + "}";
  }
  field("sinks", sinks + (f.sinks.empty() ? "]" : "\n  ]"));
  field("throughput", "{\"rows_per_second\": " + num(secs > 0 ? static_cast<double>(f.read) / secs : 0) +
                          ", \"bytes_per_second\": " + num(secs > 0 ? static_cast<double>(f.bytes_read) / secs : 0) +
                          ", \"bytes_read\": " + u(f.bytes_read) + "}");
  field("resources", "{\"wall_seconds\": " + num(secs) + ", \"cpu_user_seconds\": " + num(res.user) +
                         ", \"cpu_system_seconds\": " + num(res.system) + ", \"peak_rss_bytes\": " + u(res.peak_rss) +
                         ", \"threads\": " + std::to_string(f.threads) + "}");
  field("shard", !r.outcome.shard.active()
                     ? std::string("null")
                     : "{\"index\": " + std::to_string(r.outcome.shard.index) + ", \"count\": " +
                           std::to_string(r.outcome.shard.count) + ", \"group\": " +
                           (r.outcome.group.empty() ? std::string("null") : str(r.outcome.group)) + "}");
  const SyncOutcome& sync = f.sync;
  field("sync", !sync.full ? std::string("null")
                           : "{\"applied\": " + std::string(sync.applied ? "true" : "false") +
                                 ", \"refused\": " + (sync.refused ? "true" : "false") +
                                 ", \"delisted\": " + u(sync.delisted) + ", \"relisted\": " + u(f.sink.relisted) +
                                 ", \"listed\": " + u(sync.listed) +
                                 ", \"pending\": " + (sync.pending ? "true" : "false") +
                                 ", \"shards_ready\": " + u(sync.shards_ready) + "}");
  field("checks", checks_json(f));
  std::string deadline = plan.run.deadline ? num(static_cast<double>(plan.run.deadline->count()) / 1000.0) : "null";
  field("settings",
        "{\"threads\": " + std::to_string(f.threads) + ", \"batch_size\": " + std::to_string(plan.run.batch_size) +
            ", \"in_flight\": " + std::to_string(plan.run.in_flight) +
            ", \"ordered\": " + (plan.run.ordered ? "true" : "false") + ", \"deadline_seconds\": " + deadline +
            ", \"mode\": " + str(r.pipeline.supplier.mode) + "}",
        true);
  return j + "}\n";
}

std::string render_metrics(const ReportContext& r) {
  const FlowResult& f = r.outcome.flow;
  Resources res = resources();
  std::string sup = "supplier=\"" + label(r.pipeline.supplier.name) + "\"";
  std::string m;
  auto help = [&](const char* name, const char* text, const char* type) {
    m += std::string("# HELP ") + name + " " + text + "\n# TYPE " + name + " " + type + "\n";
  };
  help("sluice_run_rows", "Rows of the last run by outcome (read = the sum of the others).", "gauge");
  const std::pair<const char*, std::uint64_t> outcomes[] = {{"read", f.read},
                                                            {"written", f.sink.written},
                                                            {"inserted", f.sink.inserted},
                                                            {"updated", f.sink.updated},
                                                            {"unchanged", f.sink.unchanged},
                                                            {"rejected", f.rejected},
                                                            {"skipped", f.skipped},
                                                            {"other_shard", f.other_shard},
                                                            {"not_processed", f.not_processed},
                                                            {"filtered", f.filtered},
                                                            {"copies", f.copies}};
  for (const auto& [k, v] : outcomes) m += "sluice_run_rows{" + sup + ",outcome=\"" + k + "\"} " + u(v) + "\n";
  if (f.sync.full) {
    help("sluice_run_products", "Products a full-feed sync delisted or listed again in the last run.", "gauge");
    m += "sluice_run_products{" + sup + ",change=\"delisted\"} " + u(f.sync.delisted_now()) + "\n";
    m += "sluice_run_products{" + sup + ",change=\"relisted\"} " + u(f.sink.relisted) + "\n";
    help("sluice_run_delist_refused", "1 if the last run's full sync would have delisted too many products.", "gauge");
    m += "sluice_run_delist_refused{" + sup + "} " + (f.sync.refused ? "1" : "0") + "\n";
  }
  m += checks_metrics(f, sup);
  help("sluice_run_rejects", "Rejected rows of the last run by code.", "gauge");
  for (const auto& [code, n] : r.outcome.rejects_by_code)
    m += "sluice_run_rejects{" + sup + ",code=\"" + label(code) + "\"} " + u(n) + "\n";
  help("sluice_run_exit_code", "Exit code of the last run (0 = success).", "gauge");
  m += "sluice_run_exit_code{" + sup + "} " + std::to_string(to_int(r.outcome.code)) + "\n";
  help("sluice_run_success", "1 if the last run succeeded, else 0.", "gauge");
  m += "sluice_run_success{" + sup + "} " + (r.outcome.code == ExitCode::success ? "1" : "0") + "\n";
  help("sluice_run_duration_seconds", "Wall time of the last run.", "gauge");
  m += "sluice_run_duration_seconds{" + sup + "} " + num(f.wall.count()) + "\n";
  help("sluice_run_finished_timestamp_seconds", "When the last run finished (Unix time).", "gauge");
  m += "sluice_run_finished_timestamp_seconds{" + sup + "} " +
       std::to_string(
           std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
               .count()) +
       "\n";
  help("sluice_run_peak_rss_bytes", "Peak resident memory of the last run.", "gauge");
  m += "sluice_run_peak_rss_bytes{" + sup + "} " + u(res.peak_rss) + "\n";
  help("sluice_run_cpu_seconds", "CPU time of the last run.", "gauge");
  m += "sluice_run_cpu_seconds{" + sup + ",mode=\"user\"} " + num(res.user) + "\n";
  m += "sluice_run_cpu_seconds{" + sup + ",mode=\"system\"} " + num(res.system) + "\n";
  help("sluice_node_rows", "Rows per node of the last run.", "gauge");
  for (const auto& n : f.nodes) {
    std::string l = sup + ",node=\"" + label(n.id) + "\",type=\"" + label(n.type) + "\"";
    m += "sluice_node_rows{" + l + ",direction=\"in\"} " + u(n.in) + "\n";
    m += "sluice_node_rows{" + l + ",direction=\"out\"} " + u(n.out) + "\n";
    m += "sluice_node_rows{" + l + ",direction=\"rejected\"} " + u(n.rejected) + "\n";
    m += "sluice_node_rows{" + l + ",direction=\"filtered\"} " + u(n.filtered) + "\n";
    m += "sluice_node_rows{" + l + ",direction=\"not_processed\"} " + u(n.not_processed) + "\n";
  }
  help("sluice_edge_rows", "Records sent along each edge of the graph in the last run.", "gauge");
  for (const auto& e : f.edges)
    m += "sluice_edge_rows{" + sup + ",from=\"" + label(e.from) + "\",port=\"" + label(e.port) + "\",to=\"" +
         label(e.to) + "\"} " + u(e.sent) + "\n";
  help("sluice_sink_rows", "Rows each sink wrote (inserted, updated, unchanged or written) in the last run.", "gauge");
  for (const auto& s : f.sinks)
    m += "sluice_sink_rows{" + sup + ",sink=\"" + label(s.id) + "\"} " + u(s.counts.total()) + "\n";
  help("sluice_node_retries", "Operations each node tried again in the last run.", "gauge");
  for (const auto& n : f.nodes)
    m += "sluice_node_retries{" + sup + ",node=\"" + label(n.id) + "\"} " + u(n.retries) + "\n";
  help("sluice_node_busy_seconds", "Time spent in each node's body, summed over its concurrent calls.", "gauge");
  for (const auto& n : f.nodes)
    m += "sluice_node_busy_seconds{" + sup + ",node=\"" + label(n.id) + "\"} " + num(n.busy_seconds) + "\n";
  help("sluice_node_batch_latency_seconds", "Per-batch latency quantiles of each node.", "gauge");
  for (const auto& n : f.nodes) {
    std::string l = sup + ",node=\"" + label(n.id) + "\"";
    m += "sluice_node_batch_latency_seconds{" + l + ",quantile=\"0.5\"} " + num(n.p50) + "\n";
    m += "sluice_node_batch_latency_seconds{" + l + ",quantile=\"0.95\"} " + num(n.p95) + "\n";
    m += "sluice_node_batch_latency_seconds{" + l + ",quantile=\"0.99\"} " + num(n.p99) + "\n";
  }
  return m;
}

void write_atomically(const std::string& path, const std::string& text) {
  FileOutput out;
  out.open(path);
  out.write(text);
  out.close();
}

}  // namespace sluice
