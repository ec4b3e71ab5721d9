// Loading a graph and a supplier into a runnable plan, and running it: what `check` and `run` share.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/document.hpp"
#include "config/graph_file.hpp"
#include "config/supplier.hpp"
#include "graph/flow.hpp"
#include "graph/plan.hpp"
#include "runtime/exit_codes.hpp"
#include "runtime/progress.hpp"

namespace sluice {

struct PipelineOptions {
  std::string graph_path;
  std::string supplier_path;
  std::vector<std::pair<std::string, std::string>> overrides;  // --set key=value, in order
};

// The loaded configuration. Members reference each other, so it lives behind a unique_ptr.
struct Pipeline {
  std::optional<Document> graph_doc;
  std::optional<Document> supplier_doc;
  GraphFile graph;
  Supplier supplier;
  std::unique_ptr<Plan> plan;
};

// Loads, overrides, checks and plans. Every problem goes to diags; the plan is null if there was any.
std::unique_ptr<Pipeline> load_pipeline(const PipelineOptions& options, Diagnostics& diags);

// Loads the graph file alone (for `sluice graph`), without a supplier.
std::optional<GraphFile> load_graph_only(const std::string& path,
                                         const std::vector<std::pair<std::string, std::string>>& overrides,
                                         std::optional<Document>& doc, Diagnostics& diags);

struct RunOptions {
  std::string input{};
  std::string rejects_path{};
  std::string db{};  // connection string (--db / SLUICE_DB / PG* variables)
  bool dry_run = false;
  bool allow_mass_delist = false;  // a full sync may delist more than the supplier's max_delist_ratio
  Shard shard{};                   // --shard: this worker's share of the feed
  std::string group{};             // --group: the name a sharded run's workers share
  std::vector<std::pair<std::string, std::string>> overrides{};  // for the configuration fingerprint
  std::string report_path{};                                     // --report: JSON report of the run
  std::string metrics_path{};                                    // --metrics: Prometheus textfile
  ProgressMode progress = ProgressMode::never;
  bool handle_signals = false;  // SIGINT/SIGTERM stop the run (the caller blocked them first)
  std::string version{};
};

class SupplierLocked : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunOutcome {
  ExitCode code = ExitCode::success;
  FlowResult flow;
  std::string error;        // the fatal error's message, if any
  std::int64_t run_id = 0;  // ledger id when the run used a database
  std::string rejects_path;
  std::map<std::string, std::uint64_t> rejects_by_code;
  Shard shard{};       // this worker's share of the feed
  std::string group;   // the name the workers of a sharded run share
};

// Runs the plan. StartupError escapes (a configuration problem found when opening the input or the
// database); so does SupplierLocked.
RunOutcome run_pipeline(Pipeline& pipeline, const RunOptions& options);

}  // namespace sluice
