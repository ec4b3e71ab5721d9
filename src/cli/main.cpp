// sluice: the command line. Parses arguments, loads, builds, runs and prints; the work is in libsluice.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "clients/pg.hpp"
#include "clients/pg_ledger.hpp"
#include "clients/pg_schema.hpp"
#include "core/shard.hpp"
#include "graph/plan.hpp"
#include "nodes/node_type.hpp"
#include "runtime/dot.hpp"
#include "runtime/exit_codes.hpp"
#include "runtime/log.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/run_summary.hpp"
#include "runtime/process_limits.hpp"
#include "runtime/signals.hpp"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

namespace {

using namespace sluice;

std::vector<std::pair<std::string, std::string>> parse_sets(const std::vector<std::string>& sets, bool& ok) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "sluice: --set expects key=value, got '" << s << "'\n";
      ok = false;
      continue;
    }
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

int report_config_errors(const Diagnostics& diags) {
  std::cerr << diags.format();
  std::cerr << "sluice: " << diags.size() << (diags.size() == 1 ? " problem" : " problems") << " found\n";
  return to_int(ExitCode::usage);
}

void print_node_type(const NodeType& t) {
  std::cout << t.name << " (" << to_string(t.role) << ")\n";
  std::cout << "  " << t.summary << "\n";
  auto ports = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& p : v) s += (s.empty() ? "" : ", ") + p;
    return s.empty() ? std::string("-") : s;
  };
  std::cout << "  inputs: " << ports(t.input_ports()) << "; outputs: ";
  if (t.ports_from_settings) {
    // The ports depend on the settings: show the example's.
    YAML::Node example;
    try {
      example = YAML::Load(std::string(t.example));
    } catch (const YAML::Exception&) {
    }
    std::cout << "set by its settings (the example's: " << ports(t.output_ports(example)) << ")";
  } else {
    std::cout << ports(t.output_ports());
  }
  if (t.can_reject) std::cout << " (rejects go to the run's rejects output)";
  std::cout << "\n  settings:\n";
  ObjectSpec all = t.spec();
  const auto& common = common_spec(t.role).fields;
  all.fields.insert(all.fields.end(), common.begin(), common.end());
  if (all.fields.empty()) std::cout << "    (none; rules come from the supplier file)\n";
  for (const auto& f : all.fields) {
    std::cout << "    " << f.name << " (" << kind_label(f.kind) << (f.required ? ", required" : "");
    if (!f.default_value.empty()) std::cout << ", default " << f.default_value;
    std::cout << "): " << f.doc << "\n";
  }
  std::cout << "  example:\n";
  std::string ex(t.example);
  std::size_t start = 0;
  bool first = true;
  while (start < ex.size()) {
    auto nl = ex.find('\n', start);
    std::cout << (first ? "    - " : "      ") << ex.substr(start, nl - start) << "\n";
    first = false;
    start = nl == std::string::npos ? ex.size() : nl + 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ignore_sigpipe();
  CLI::App app{"sluice: imports supplier product feeds through a YAML-configured dataflow graph"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);

  std::string graph_path, supplier_path, input, rejects_path, db;
  std::vector<std::string> sets;
  bool dot = false;
  bool dry_run = false;
  bool allow_mass_delist = false;

  auto* run = app.add_subcommand("run", "import a feed");
  run->add_option("graph", graph_path, "graph file (graphs/*.yaml)")->required();
  run->add_option("--supplier,-s", supplier_path,
                  "supplier file (config/suppliers/*.yaml); a graph whose nodes read no supplier rules (a URL check) "
                  "runs without one");
  run->add_option("--input,-i", input, "feed file, or - for standard input (default: the source's path setting)");
  run->add_option("--rejects", rejects_path, "where rejected rows go (NDJSON); default: the graph's run.rejects");
  run->add_option("--set", sets, "override a setting: key=value (supplier.* for the supplier file)");
  run->add_option("--db", db, "PostgreSQL connection string (default: SLUICE_DB, then the PG* variables)");
  run->add_flag("--dry-run", dry_run, "run against the database but roll every write back");
  run->add_flag("--allow-mass-delist", allow_mass_delist,
                "sync: full may delist more than the supplier's max_delist_ratio of its products, this run only");
  std::string as_of;
  std::string threads, deadline, progress = "auto", log_format = "text", report_path, metrics_path;
  run->add_option("--threads", threads, "worker threads: auto or a number (overrides run.threads)");
  run->add_option("--as-of", as_of,
                  "judge sale windows and dated discounts at this instant, e.g. 2026-11-27T00:00:00Z (run.as_of)");
  run->add_option("--deadline", deadline,
                  "cancel the run after this long, e.g. 30s, 10m, 1h30m (overrides run.deadline)");
  run->add_option("--progress", progress, "live progress on stderr")->check(CLI::IsMember({"auto", "always", "never"}));
  run->add_option("--log-format", log_format, "text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  run->add_option("--report", report_path, "write a JSON report of the run (schema: docs/report.schema.json)");
  run->add_option("--metrics", metrics_path, "write Prometheus textfile metrics of the run");
  std::string shard_text, group;
  run->add_option("--shard", shard_text,
                  "this worker's share of the feed, I/N (0 <= I < N): it keeps the rows whose key hashes to I; auto/N "
                  "takes I from a Kubernetes Indexed Job or a Slurm job array (default: SLUICE_SHARD)");
  run->add_option("--group", group,
                  "the name the workers of one sharded run share, recorded in the ledger (default: SLUICE_GROUP, "
                  "then slurm-SLURM_ARRAY_JOB_ID)");

  auto* check = app.add_subcommand("check", "check a graph and a supplier file without running anything");
  check->add_option("graph", graph_path, "graph file")->required();
  check->add_option("--supplier,-s", supplier_path, "supplier file (not needed when no node reads one)");
  check->add_option("--set", sets, "override a setting: key=value");

  auto* graph = app.add_subcommand("graph", "print a graph");
  graph->add_option("graph", graph_path, "graph file")->required();
  graph->add_flag("--dot", dot, "as Graphviz dot (the default)");
  std::string graph_report;
  graph->add_option("--report", graph_report, "label the edges with the counts of a finished run's --report");
  graph->add_option("--set", sets, "override a setting: key=value");

  std::string node_name;
  auto* nodes = app.add_subcommand("nodes", "list the node types with their settings");
  nodes->add_option("type", node_name, "show one node type");

  auto* dbcmd = app.add_subcommand("db", "database administration");
  dbcmd->require_subcommand(1);
  auto* migrate_cmd = dbcmd->add_subcommand("migrate", "create or upgrade sluice's tables");
  migrate_cmd->add_option("--db", db, "PostgreSQL connection string (default: SLUICE_DB, then the PG* variables)");

  auto* runs = app.add_subcommand("runs", "list recent runs from the ledger");
  int runs_limit = 20;
  runs->add_option("--limit", runs_limit, "how many runs")->check(CLI::Range(1, 100000));
  runs->add_option("--db", db, "PostgreSQL connection string (default: SLUICE_DB, then the PG* variables)");
  std::int64_t show_id = 0;
  auto* runs_show = runs->add_subcommand("show", "one run with its counts and top reject reasons");
  runs_show->add_option("id", show_id, "run id")->required();
  runs_show->add_option("--db", db, "PostgreSQL connection string");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : to_int(ExitCode::usage);
  }

  bool sets_ok = true;
  auto overrides = parse_sets(sets, sets_ok);
  if (!sets_ok) return to_int(ExitCode::usage);
  if (*run) {
    if (!threads.empty()) overrides.emplace_back("run.threads", threads);
    if (!deadline.empty()) overrides.emplace_back("run.deadline", deadline);
    if (!as_of.empty()) overrides.emplace_back("run.as_of", as_of);
    // Before any thread exists, so that only the run's signal watcher sees SIGINT and SIGTERM.
    block_stop_signals();
    init_logging(log_format == "json" ? LogFormat::json : LogFormat::text);
  }

  if (*nodes) {
    if (!node_name.empty()) {
      const NodeType* t = find_node_type(node_name);
      if (!t) {
        std::cerr << "sluice: unknown node type '" << node_name << "'\n";
        return to_int(ExitCode::usage);
      }
      print_node_type(*t);
      return 0;
    }
    for (const auto& t : builtin_nodes()) {
      print_node_type(t);
      std::cout << "\n";
    }
    return 0;
  }

  if (*dbcmd || *runs) {
    std::string conninfo = resolve_conninfo(db);
    try {
      auto conn = connect(conninfo);
      if (*migrate_cmd) {
        auto applied = migrate(*conn);
        std::cout << "sluice: schema at version " << latest_schema_version() << " (" << applied.size()
                  << (applied.size() == 1 ? " migration" : " migrations") << " applied)\n";
        return 0;
      }
      require_current_schema(*conn);
      std::cout << (*runs_show ? format_run(*conn, show_id) : format_runs(*conn, runs_limit));
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "sluice: " << redact_error(e.what(), conninfo) << "\n";
      return to_int(ExitCode::failure);
    }
  }

  if (*graph) {
    Diagnostics diags;
    std::optional<Document> doc;
    auto g = load_graph_only(graph_path, overrides, doc, diags);
    if (!g) return report_config_errors(diags);
    try {
      std::cout << render_dot(*g, graph_report);
    } catch (const std::exception& e) {
      std::cerr << "sluice: " << e.what() << "\n";
      return to_int(ExitCode::usage);
    }
    return 0;
  }

  Diagnostics diags;
  PipelineOptions options{graph_path, supplier_path, overrides};
  auto pipeline = load_pipeline(options, diags);
  if (!diags.empty() || !pipeline->plan) return report_config_errors(diags);

  if (*check) {
    std::cerr << "sluice: " << graph_path << (supplier_path.empty() ? "" : " with " + supplier_path) << ": ok (" << pipeline->plan->nodes.size()
              << " nodes, " << pipeline->plan->schema.size() << " fields)\n";
    return 0;
  }

  RunOptions run_options;
  run_options.input = input;
  run_options.rejects_path = rejects_path.empty() ? pipeline->graph.run.rejects : rejects_path;
  run_options.db = resolve_conninfo(db);
  run_options.dry_run = dry_run;
  run_options.allow_mass_delist = allow_mass_delist;
  if (shard_text.empty())
    if (const char* e = std::getenv("SLUICE_SHARD")) shard_text = e;
  if (!shard_text.empty()) {
    auto shard = parse_shard(shard_text, [](const char* name) { return std::getenv(name); });
    if (!shard) {
      std::cerr << "sluice: " << shard.error << "\n";
      return to_int(ExitCode::usage);
    }
    run_options.shard = *shard;
    // Workers on one file system must not share the graph's rejects file: each gets its own.
    if (rejects_path.empty() && shard->active() && run_options.rejects_path != "-") {
      std::string& p = run_options.rejects_path;
      const std::string tag = ".shard-" + std::to_string(shard->index) + "-of-" + std::to_string(shard->count);
      auto ext = p.rfind('.');
      auto slash = p.rfind('/');
      if (ext == std::string::npos || (slash != std::string::npos && ext < slash) || ext == slash + 1)
        p += tag;
      else
        p.insert(ext, tag);
    }
  }
  if (group.empty())
    if (const char* e = std::getenv("SLUICE_GROUP")) group = e;
  if (group.empty())
    if (const char* e = std::getenv("SLURM_ARRAY_JOB_ID"); e && *e) group = std::string("slurm-") + e;
  run_options.group = group;
  run_options.overrides = overrides;
  run_options.report_path = report_path;
  run_options.metrics_path = metrics_path;
  run_options.progress = progress == "always"  ? ProgressMode::always
                         : progress == "never" ? ProgressMode::never
                                               : ProgressMode::auto_detect;
  run_options.handle_signals = true;
  run_options.version = SLUICE_VERSION;
  const auto& threads_setting = pipeline->plan->run.threads;
  ProcessLimits limits(threads_setting ? static_cast<int>(*threads_setting) : 0);
  try {
    RunOutcome outcome = run_pipeline(*pipeline, run_options);
    if (log_format == "json")
      log_summary(outcome, *pipeline);
    else
      std::cerr << format_summary(outcome, *pipeline);
    return to_int(outcome.code);
  } catch (const StartupError& e) {
    return report_config_errors(e.diagnostics());
  } catch (const SupplierLocked& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return to_int(ExitCode::locked);
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << redact_error(e.what(), run_options.db) << "\n";
    return to_int(ExitCode::failure);
  }
}
