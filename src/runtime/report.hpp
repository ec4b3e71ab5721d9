// The machine-readable outcome of a run: a versioned JSON report and Prometheus textfile metrics.
#pragma once

#include <string>

#include "runtime/pipeline.hpp"

namespace sluice {

inline constexpr const char* kReportSchema = "sluice.report/2";

struct ReportContext {
  const Pipeline& pipeline;
  const RunOptions& options;
  const RunOutcome& outcome;
  std::string version;
  std::string started_at;  // RFC 3339, UTC
  std::string finished_at;
};

// The report as JSON text (docs/report.schema.json describes it).
std::string render_report(const ReportContext& r);

// The same figures in Prometheus text exposition format, for node_exporter's textfile collector.
std::string render_metrics(const ReportContext& r);

// Writes text to path atomically (a temporary file renamed into place).
void write_atomically(const std::string& path, const std::string& text);

std::string utc_now_rfc3339();

}  // namespace sluice
