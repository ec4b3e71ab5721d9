// The end-of-run summary: for people, and as one structured log event.
#pragma once

#include <string>

#include "runtime/pipeline.hpp"

namespace sluice {

// The summary with the accounting identity, per-sink identities and per-node counts.
std::string format_summary(const RunOutcome& outcome, const Pipeline& pipeline);

// The same as one structured log event (for --log-format json).
void log_summary(const RunOutcome& outcome, const Pipeline& pipeline);

}  // namespace sluice
