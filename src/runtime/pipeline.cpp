// Loading, checking and running a pipeline; the end-of-run summary.
#include "runtime/pipeline.hpp"

#include <ctime>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "clients/pg.hpp"
#include "clients/pg_ledger.hpp"
#include "clients/supplier_lock.hpp"
#include "clients/pg_schema.hpp"
#include "config/spec.hpp"
#include "runtime/check_summary.hpp"
#include "runtime/fingerprint.hpp"
#include "runtime/log.hpp"
#include "runtime/report.hpp"
#include "runtime/signals.hpp"

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
  const bool defaulted = options.supplier_path.empty();
  // Without a supplier file the run is named after the graph file, keyed by url, and every node
  // that reads supplier rules is refused by the planner.
  p->supplier_doc =
      defaulted ? Document::parse("{}", "(no supplier file)", diags) : Document::load(options.supplier_path, diags);
  apply_overrides(options.overrides, p->graph_doc ? &*p->graph_doc : nullptr,
                  p->supplier_doc && !defaulted ? &*p->supplier_doc : nullptr, diags);
  if (p->graph_doc) p->graph = read_graph_file(*p->graph_doc, diags);
  if (defaulted) {
    p->supplier.name = std::filesystem::path(options.graph_path).stem().string();
    p->supplier.key = "url";
    p->supplier.defaulted = true;
  } else if (p->supplier_doc) {
    p->supplier = read_supplier(*p->supplier_doc, diags);
  }
  if (p->graph_doc && p->supplier_doc)
    p->plan = plan_graph(p->graph, *p->graph_doc, p->supplier, *p->supplier_doc, diags);
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

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Watches the supplier lock's connection during the run; losing the lock stops the run.
class LockWatch {
 public:
  LockWatch(SupplierLock& lock, Flow& flow)
      : thread_([this, &lock, &flow] {
          try {
            watch(lock, flow);
          } catch (...) {
            flow.fail(std::current_exception());  // not std::terminate: the run fails and is recorded
          }
        }) {}
  ~LockWatch() {
    {
      std::lock_guard l(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  bool lost() {
    std::lock_guard l(m_);
    return lost_;
  }

 private:
  void watch(SupplierLock& lock, Flow& flow) {
    std::unique_lock l(m_);
    while (!cv_.wait_for(l, std::chrono::seconds(1), [this] { return done_.load(); })) {
      l.unlock();
      bool held = lock.still_held(done_);
      l.lock();
      if (!held && !done_) {
        lost_ = true;
        flow.stop(StopReason::lock_lost, true);
        return;
      }
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> done_{false};
  bool lost_ = false;
  std::thread thread_;
};

// The database time limits: those of the graph's database node, else the defaults.
PgTimeouts pg_timeouts(const Plan& plan) {
  PgTimeouts t;
  for (const auto& p : plan.nodes) {
    if (!p.type->needs_database || !p.entry) continue;
    const ObjectSpec& spec = p.type->spec();
    Settings s(p.entry->settings, &spec);
    if (spec.find("connect_timeout"))
      if (auto d = s.duration("connect_timeout")) t.connect = *d;
    if (spec.find("statement_timeout"))
      if (auto d = s.duration("statement_timeout")) t.statement = *d;
  }
  return t;
}

}  // namespace

RunOutcome run_pipeline(Pipeline& pipeline, const RunOptions& options) {
  RunOutcome outcome;
  const std::string started_at = utc_now_rfc3339();
  const Plan& plan = *pipeline.plan;
  RunContext ctx;
  ctx.input = options.input;
  ctx.db = options.db;
  ctx.dry_run = options.dry_run;
  ctx.allow_mass_delist = options.allow_mass_delist;
  ctx.shard = options.shard;
  ctx.group = options.group;
  outcome.shard = options.shard;
  outcome.group = options.group;
  ctx.database = plan.needs_database;
  ctx.as_of = plan.run.as_of.value_or(static_cast<std::int64_t>(std::time(nullptr)));

  // Signals and the deadline also cut short a start-up that waits for the database.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (plan.run.deadline) deadline = std::chrono::steady_clock::now() + *plan.run.deadline;
  std::atomic<bool> interrupted{false};
  std::atomic<Flow*> running{nullptr};
  std::optional<SignalWatcher> signals;
  if (options.handle_signals)
    signals.emplace([&interrupted, &running](int) {
      interrupted = true;
      if (Flow* f = running.load()) f->stop(StopReason::interrupted, true);
    });

  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<SupplierLock> lock;
  if (plan.needs_database && ctx.shard.active() && ctx.group.empty()) {
    Diagnostics d;
    d.add(Diagnostic{"--group", 0, 0, "",
                     "a sharded run into the database needs the name its workers share: --group NAME or SLUICE_GROUP "
                     "(a Slurm job array gives one)"});
    throw StartupError(d);
  }
  if (plan.needs_database) {
    const PgTimeouts timeouts = pg_timeouts(plan);
    try {
      auto conn = connect(ctx.db, ConnectOptions{timeouts.connect, deadline, &interrupted, "sluice"});
      try {
        StatementTimer timer(*conn, timeouts.statement);
        require_current_schema(*conn);
      } catch (const std::runtime_error& e) {
        if (dynamic_cast<const pqxx::failure*>(&e)) throw;
        Diagnostics d;
        d.add(Diagnostic{"database", 0, 0, "", e.what()});
        throw StartupError(d);
      }
      lock = std::make_unique<SupplierLock>(ctx.db, pipeline.supplier.name, ctx.shard, timeouts);
      if (!lock->try_acquire(ConnectOptions{timeouts.connect, deadline, &interrupted, "sluice lock"}))
        throw SupplierLocked(
            ctx.shard.active()
                ? "another run for supplier '" + pipeline.supplier.name + "' shard " + ctx.shard.text() +
                      ", or an unsharded one, is in progress (it holds the lock); not starting a second one"
                : "another run for supplier '" + pipeline.supplier.name +
                      "' is in progress (it holds the supplier lock); not starting a second one");
    } catch (const ConnectCancelled& e) {
      // Nothing ran and nothing was recorded: the run ends the way its stop asked for.
      outcome.code = interrupted ? ExitCode::interrupted : ExitCode::deadline;
      outcome.error = redact_error(e.what(), ctx.db);
      return outcome;
    }
    ledger = std::make_unique<Ledger>(ctx.db, timeouts);
    std::vector<std::string> parts{read_text(pipeline.graph_doc->name()),
                                   pipeline.supplier.defaulted ? "" : read_text(pipeline.supplier_doc->name())};
    for (const auto& [k, v] : options.overrides) parts.push_back(k + "=" + v);
    ctx.run_id =
        ledger->start(RunStart{pipeline.supplier.name, pipeline.graph_doc->name(),
                               options.input.empty() ? "-" : options.input, sha256_parts(parts), options.dry_run,
                               ctx.group, ctx.shard});
    outcome.run_id = ctx.run_id;
  }

  RejectsWriter rejects;
  outcome.rejects_path = options.rejects_path;
  rejects.open(options.rejects_path);
  Flow flow(*pipeline.plan, rejects);
  if (ledger) {
    Ledger* l = ledger.get();
    std::int64_t id = ctx.run_id;
    flow.on_rejects = [l, id](const std::vector<Reject>& rs, const std::vector<std::string>* header) {
      l->add_rejects(id, rs, header);
    };
  }
  if (deadline) flow.set_deadline(*deadline);
  log_info("run started", {{"supplier", pipeline.supplier.name},
                           {"input", options.input.empty() ? "-" : options.input},
                           {"run_id", std::to_string(ctx.run_id), true},
                           {"dry_run", options.dry_run ? "true" : "false", true}});
  running = &flow;
  if (interrupted) flow.stop(StopReason::interrupted, true);
  bool lock_lost = false;
  try {
    std::optional<LockWatch> watch;
    if (lock) watch.emplace(*lock, flow);
    Progress progress(flow, options.progress);
    outcome.flow = flow.run(ctx);
    lock_lost = watch && watch->lost();
  } catch (const StartupError&) {
    running = nullptr;
    if (ledger) {
      RunEnd end;
      end.status = status_of(ExitCode::usage);
      end.exit_code = to_int(ExitCode::usage);
      end.error = "start-up error";
      ledger->finish(ctx.run_id, end);
    }
    throw;
  } catch (const std::exception& e) {
    // A node that could not open (a table that is not there): nothing was read, and the run is
    // summarised and recorded like any other failed run.
    outcome.flow.error = std::make_exception_ptr(std::runtime_error(server_message(e.what())));
  }
  running = nullptr;
  try {
    rejects.close();
  } catch (const std::exception& e) {
    if (!outcome.flow.error) outcome.flow.error = std::make_exception_ptr(NodeError("rejects", e.what()));
  }
  outcome.rejects_by_code = rejects.counts_by_code();
  // Rows of a supplemental feed are in the same output; the feed's own rejects are counted apart.
  for (const auto& [code, n] : outcome.flow.side_rejects_by_code)
    if (auto it = outcome.rejects_by_code.find(code); it != outcome.rejects_by_code.end() && (it->second -= n) == 0)
      outcome.rejects_by_code.erase(it);
  if (outcome.flow.error) {
    try {
      std::rethrow_exception(outcome.flow.error);
    } catch (const std::exception& e) {
      outcome.error = redact_error(e.what(), ctx.db);
    } catch (...) {
      outcome.error = "unknown error";
    }
    outcome.code = ExitCode::failure;
  } else if (lock_lost || outcome.flow.stop == StopReason::lock_lost) {
    outcome.error = "lost the supplier lock (its database connection broke and the lock could not be taken again)";
    outcome.code = ExitCode::failure;
  } else if (outcome.flow.stop == StopReason::error_budget) {
    outcome.error = "error budget exceeded: " + std::to_string(outcome.flow.rejected) + " of " +
                    std::to_string(outcome.flow.read - outcome.flow.other_shard) + " rows rejected";
    outcome.code = ExitCode::error_budget;
  } else if (outcome.flow.stop == StopReason::deadline) {
    outcome.error = "deadline exceeded";
    outcome.code = ExitCode::deadline;
  } else if (outcome.flow.stop == StopReason::interrupted) {
    outcome.error = "interrupted";
    outcome.code = ExitCode::interrupted;
  } else if (!outcome.flow.identity_holds()) {
    outcome.error = "accounting identity violated";
    outcome.code = ExitCode::failure;
  } else if (outcome.flow.sync.refused) {
    const SyncOutcome& s = outcome.flow.sync;
    outcome.error = "sync: full refused to delist " + std::to_string(s.delisted) + " of the supplier's " +
                    std::to_string(s.listed) + " listed products, more than max_delist_ratio " +
                    pipeline.supplier.max_delist_ratio.to_string() +
                    " (a truncated or wrong feed?); nothing was delisted; --allow-mass-delist allows it for one run";
    outcome.code = ExitCode::delist_refused;
  } else if (outcome.flow.checks && outcome.flow.checks->failing > 0) {
    const CheckReport& c = *outcome.flow.checks;
    std::string classes;
    for (const auto& name : c.fail_on) classes += (classes.empty() ? "" : ", ") + name;
    outcome.error = std::to_string(c.failing) + " of " + std::to_string(c.checked) + " URLs checked are " + classes +
                    " (fail_on); every result was written";
    outcome.code = ExitCode::checks_failed;
  }

  if (ledger) {
    const FlowResult& f = outcome.flow;
    RunEnd end;
    end.status = status_of(outcome.code);
    end.exit_code = to_int(outcome.code);
    // A FIFO or a device cannot be read twice: opening it again would wait for a writer for ever.
    std::error_code ec;
    if (std::filesystem::is_regular_file(options.input, ec)) end.input_sha256 = sha256_file(options.input);
    end.read = f.read;
    end.written = f.sink.written;
    end.inserted = f.sink.inserted;
    end.updated = f.sink.updated;
    end.unchanged = f.sink.unchanged;
    end.relisted = f.sink.relisted;
    end.delisted = f.sync.delisted_now();
    end.other_shard = f.other_shard;
    end.rejected = f.rejected;
    end.not_processed = f.not_processed;
    end.skipped = f.skipped;
    end.error = outcome.error;
    for (const auto& k : f.sinks)
      end.sinks.push_back(RunSinkEnd{k.id, k.type, k.in, k.counts.written, k.counts.inserted, k.counts.updated,
                                     k.counts.unchanged, k.rejected, k.not_processed});
    try {
      ledger->finish(ctx.run_id, end);
    } catch (const std::exception& e) {
      if (outcome.code == ExitCode::success) outcome.code = ExitCode::failure;
      outcome.error +=
          (outcome.error.empty() ? "" : "; ") + std::string("cannot record the run: ") + redact_error(e.what(), ctx.db);
    }
  }

  ReportContext report{pipeline, options, outcome, options.version, started_at, utc_now_rfc3339()};
  auto write_output = [&](const std::string& path, const std::string& what, const std::string& text) {
    if (path.empty()) return;
    try {
      write_atomically(path, text);
    } catch (const std::exception& e) {
      if (outcome.code == ExitCode::success) outcome.code = ExitCode::failure;
      outcome.error += std::string(outcome.error.empty() ? "" : "; ") + "cannot write the " + what + ": " + e.what();
    }
  };
  write_output(options.report_path, "report", render_report(report));
  write_output(options.metrics_path, "metrics", render_metrics(report));
  return outcome;
}

}  // namespace sluice
