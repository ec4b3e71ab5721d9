// A run from opening the nodes to closing them: the graph itself is built in flow_graph.cpp.
#include "graph/flow.hpp"

#include <oneapi/tbb/info.h>

#include <algorithm>
#include <condition_variable>
#include <optional>
#include <thread>

#include "graph/flow_graph.hpp"
#include "graph/flow_tally.hpp"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

// Fires the flow's deadline from its own thread unless the run ends first.
class Watchdog {
 public:
  Watchdog(Flow& flow, std::optional<Clock::time_point> at) {
    if (!at) return;
    thread_ = std::thread([this, &flow, at] {
      try {
        std::unique_lock l(m_);
        if (!cv_.wait_until(l, *at, [this] { return done_; })) flow.stop(StopReason::deadline, true);
      } catch (...) {
        flow.fail(std::current_exception());
      }
    });
  }
  ~Watchdog() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard l(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

std::string_view to_string(StopReason r) {
  switch (r) {
    case StopReason::none:
      return "none";
    case StopReason::error_budget:
      return "error_budget";
    case StopReason::deadline:
      return "deadline";
    case StopReason::interrupted:
      return "interrupted";
    case StopReason::lock_lost:
      return "lock_lost";
  }
  return "?";
}

Flow::Flow(Plan& plan, RejectsWriter& rejects)
    : plan_(plan), rejects_(rejects), tally_(std::make_unique<FlowTally>(plan)) {}

Flow::~Flow() = default;

void Flow::stop(StopReason why, bool cancel) {
  StopReason none = StopReason::none;
  reason_.compare_exchange_strong(none, why);
  stop_.store(true);
  if (!cancel) return;
  {
    std::lock_guard l(context_mutex_);
    ++stops_in_progress_;
    if (cancel_graph_) cancel_graph_();
  }
  abort_nodes();
  std::lock_guard l(context_mutex_);
  if (--stops_in_progress_ == 0) stops_done_.notify_all();
}

void Flow::fail_node(const std::string& node, std::exception_ptr error) {
  std::exception_ptr named;
  try {
    std::rethrow_exception(error);
  } catch (const NodeError&) {
    named = std::current_exception();
  } catch (const std::exception& e) {
    named = std::make_exception_ptr(NodeError(node, e.what()));
  } catch (...) {
    named = std::make_exception_ptr(NodeError(node, "unknown exception"));
  }
  fail(std::move(named));
}

void Flow::abort_nodes() {
  for (auto& p : plan_.nodes) {
    try {
      std::visit([](auto& body) { body->abort(); }, p.body);
    } catch (const std::exception& e) {
      // Already stopping: record the failure without stopping again.
      record_failure(std::make_exception_ptr(NodeError(p.entry->id, std::string("cannot abort: ") + e.what())));
    } catch (...) {
      record_failure(std::make_exception_ptr(NodeError(p.entry->id, "cannot abort: unknown exception")));
    }
  }
}

void Flow::record_failure(std::exception_ptr error) {
  std::lock_guard l(context_mutex_);
  if (!failure_) failure_ = std::move(error);
}

void Flow::fail(std::exception_ptr error) {
  record_failure(std::move(error));
  stop(StopReason::none, true);
}

FlowSnapshot Flow::snapshot() const {
  FlowSnapshot s;
  const FlowTally& t = *tally_;
  s.read = t.read.load();
  s.finished = t.finished.load() + t.skipped.load() + t.other_shard.load();
  s.rejected = t.rejected.load();
  s.bytes_read = t.bytes_read.load();
  if (auto total = t.bytes_total.load(); total >= 0) s.bytes_total = static_cast<std::uint64_t>(total);
  for (std::size_t i = 0; i < plan_.nodes.size(); ++i) {
    const NodeTally& n = t.node(i);
    s.node_out.emplace_back(plan_.nodes[i].entry->id,
                            plan_.nodes[i].type->role == NodeRole::sink ? n.written.load() : n.out());
  }
  return s;
}

FlowResult Flow::run(const RunContext& run_ctx) {
  FlowTally& tally = *tally_;
  // Each sink's error budget as of the batch it is writing: rows and rejects of every batch up to
  // it, so that a batch run stops committing exactly where its rejects went over the budget.
  std::vector<std::size_t> sink_nodes;
  for (std::size_t i = 0; i < plan_.nodes.size(); ++i)
    if (std::holds_alternative<std::unique_ptr<SinkNode>>(plan_.nodes[i].body)) sink_nodes.push_back(i);
  std::vector<SinkTally> sinks(sink_nodes.size());  // atomics: sized once, never moved
  for (std::size_t s = 0; s < sinks.size(); ++s) sinks[s].node = sink_nodes[s];
  std::atomic<bool> budget_spent{false};  // once over, later batches do not commit either
  auto over_budget = [this, &budget_spent](const BudgetMark& at, std::uint64_t more) {
    if (budget_spent.load()) return true;
    const std::uint64_t rejected = at.rejects + more;
    bool over = plan_.budget.max_rejects && rejected > static_cast<std::uint64_t>(*plan_.budget.max_rejects);
    if (!over && plan_.budget.max_reject_ratio)
      over = ratio_exceeded(rejected, at.rows, *plan_.budget.max_reject_ratio);
    if (over) {
      budget_spent = true;
      stop(StopReason::error_budget, false);
    }
    return over;
  };
  RunContext ctx = run_ctx;
  ctx.over_budget = over_budget;
  std::vector<std::size_t> sink_index(plan_.nodes.size(), 0);
  for (std::size_t s = 0; s < sinks.size(); ++s) sink_index[sinks[s].node] = s;
  for (std::size_t i = 0; i < plan_.nodes.size(); ++i) {
    RunContext node_ctx = ctx;
    if (std::holds_alternative<std::unique_ptr<SinkNode>>(plan_.nodes[i].body)) {
      SinkTally* mine = &sinks[sink_index[i]];
      node_ctx.budget_mark = [mine] { return BudgetMark{mine->rows.load(), mine->rejects.load()}; };
    }
    std::visit([&](auto& body) { body->open(node_ctx); }, plan_.nodes[i].body);
  }
  // Rows a node refused from its own inputs (a supplemental feed) go to the rejects output first.
  std::map<std::string, std::uint64_t> side_codes;
  for (auto& p : plan_.nodes) {
    std::vector<Reject> side = std::visit(
        [](auto& body) -> std::vector<Reject> {
          using T = std::decay_t<decltype(*body)>;
          if constexpr (std::is_same_v<T, TransformNode> || std::is_same_v<T, RouterNode>)
            return body->take_side_rejects();
          else
            return {};
        },
        p.body);
    if (side.empty()) continue;
    rejects_.write(side, nullptr);
    if (on_rejects) on_rejects(side, nullptr);
    tally.side_rejected += side.size();
    for (const auto& r : side) ++side_codes[r.code];
  }

  auto& source = *std::get<std::unique_ptr<SourceNode>>(plan_.nodes.front().body);
  if (auto total = source.bytes_total()) tally.bytes_total.store(static_cast<std::int64_t>(*total));
  const int cores = oneapi::tbb::info::default_concurrency();
  const int threads = plan_.run.threads ? static_cast<int>(*plan_.run.threads) : cores;

  FlowResult result;
  result.threads = threads;
  auto start = Clock::now();
  auto watchdog = std::make_unique<Watchdog>(*this, deadline_);
  result.error = FlowGraph(*this, sinks).run(ctx, threads);
  {
    std::unique_lock l(context_mutex_);
    // A failure from another thread explains the run's end better than the cancellation it caused.
    stops_done_.wait(l, [this] { return stops_in_progress_ == 0; });
    if (failure_) result.error = failure_;
  }

  watchdog.reset();  // a deadline that passes while the nodes close must not abort their commits
  result.stop = reason_.load();
  if (result.stop == StopReason::none && plan_.budget.max_reject_ratio && tally.read > 0 &&
      ratio_exceeded(tally.rejected.load(), tally.read.load() - tally.other_shard.load(),
                     *plan_.budget.max_reject_ratio))
    result.stop = StopReason::error_budget;
  bool complete = !result.error && result.stop == StopReason::none;
  for (auto& p : plan_.nodes) {
    try {
      std::visit(
          [](auto& body) {
            using T = std::decay_t<decltype(*body)>;
            if constexpr (!std::is_same_v<T, SourceNode> && !std::is_same_v<T, SinkNode>) body->close();
          },
          p.body);
    } catch (const std::exception& e) {
      if (!result.error) result.error = std::make_exception_ptr(NodeError(p.entry->id, e.what()));
    }
  }
  for (SinkTally& s : sinks) {
    PlannedNode& p = plan_.nodes[s.node];
    SinkNode& sink = *std::get<std::unique_ptr<SinkNode>>(p.body);
    // What a sink counted as written but does not keep after all (an all-or-nothing run rolled back).
    auto take_back = [&](const WriteCounts& undone) {
      s.written.inserted -= undone.inserted;
      s.written.updated -= undone.updated;
      s.written.unchanged -= undone.unchanged;
      s.written.written -= undone.written;
      s.written.relisted -= undone.relisted;
      tally.node(s.node).written -= undone.total();
      tally.in_flight += static_cast<std::int64_t>(undone.total());
    };
    try {
      take_back(sink.close(complete));
    } catch (const SinkCloseError& e) {
      take_back(e.undone());
      if (!result.error) result.error = std::make_exception_ptr(NodeError(p.entry->id, e.what()));
    } catch (const std::exception& e) {
      if (!result.error) result.error = std::make_exception_ptr(NodeError(p.entry->id, e.what()));
    }
    if (SyncOutcome sync = sink.sync(); sync.full) result.sync = sync;
    if (HealthChanges health = sink.health_changes(); health.known) result.health = std::move(health);
    result.sink += s.written;
  }
  for (const auto& node : plan_.nodes) {
    if (const auto* async = std::get_if<std::unique_ptr<AsyncTransformNode>>(&node.body))
      if (auto report = (*async)->check_report()) result.checks = std::move(report);
  }
  result.wall = Clock::now() - start;
  result.read = tally.read;
  result.skipped = tally.skipped;
  result.other_shard = tally.other_shard;
  result.copies = tally.copies;
  result.filtered = tally.filtered;
  result.rejected = tally.rejected;
  result.side_rejected = tally.side_rejected;
  result.side_rejects_by_code = std::move(side_codes);
  result.not_processed = static_cast<std::uint64_t>(std::max<std::int64_t>(0, tally.in_flight.load()));
  result.bytes_read = source.bytes_read();
  result.bytes_total = source.bytes_total();
  result.nodes = tally.node_counts(plan_);
  result.edges = tally.edge_counts(plan_);
  for (const SinkTally& s : sinks) {
    const NodeCounts& n = result.nodes[s.node];
    result.sinks.push_back(SinkCounts{n.id, n.type, s.written, n.in, n.rejected, n.not_processed});
  }
  if (!result.error) {
    if (auto broken = tally.conservation_error(plan_, complete))
      result.error = std::make_exception_ptr(std::logic_error("the run's accounting does not add up: " + *broken));
  }
  if (complete && !result.error && result.not_processed != 0) {
    result.error = std::make_exception_ptr(
        std::logic_error(std::to_string(result.not_processed) + " rows were read but neither written nor rejected"));
  }
  return result;
}

}  // namespace sluice
