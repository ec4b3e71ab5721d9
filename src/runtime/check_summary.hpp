// What a URL health run found, as the summary's lines, the report's `checks` object and metrics.
#pragma once

#include <string>

#include "graph/flow.hpp"

namespace sluice {

// Lines for the end-of-run summary; empty when the graph checked no URLs.
std::string format_checks(const FlowResult& flow);

// The report's `checks` value: an object, or null when the graph checked no URLs.
std::string checks_json(const FlowResult& flow);

// Prometheus lines; `labels` are the run's own (supplier="...").
std::string checks_metrics(const FlowResult& flow, const std::string& labels);

}  // namespace sluice
