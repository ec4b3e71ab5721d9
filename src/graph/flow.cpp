// The only user of TBB's flow graph: input_node -> limiter_node -> transforms -> (sequencer) -> sink.
#include "graph/flow.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <condition_variable>
#include <optional>
#include <thread>

namespace sluice {
namespace {

namespace flow = oneapi::tbb::flow;
using Clock = std::chrono::steady_clock;

// One per batch read. The batch may split (records on, rejects to the rejects output); the limiter
// is given its slot back when the last piece reaches a terminal node, so it bounds whole batches.
struct Ticket {
  std::atomic<int> pieces{1};
  std::uint64_t rows = 0;                 // read into this batch
  std::atomic<std::uint64_t> rejects{0};  // split off on the way to the sink
};

struct Message {
  std::shared_ptr<Batch> batch;
  std::shared_ptr<Ticket> ticket;
};

struct RejectMessage {
  std::shared_ptr<std::vector<Reject>> rejects;
  std::shared_ptr<const std::vector<std::string>> header;
  std::shared_ptr<Ticket> ticket;
};

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
    : plan_(plan), rejects_(rejects), stats_(std::make_unique<Stats[]>(plan.chain.size())) {}

Flow::~Flow() = default;

// Times a node body and turns its exceptions into NodeError, which names the node.
template <class F>
auto Flow::guarded(const std::string& id, Stats& stats, F&& f) {
  struct Busy {
    Stats& s;
    Clock::time_point t0 = Clock::now();
    ~Busy() {
      auto ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count());
      s.busy_ns += ns;
      s.latency.record(ns);
    }
  } busy{stats};
  try {
    return f();
  } catch (const NodeError&) {
    throw;
  } catch (const RunCancelled&) {
    throw;
  } catch (const std::exception& e) {
    throw NodeError(id, e.what());
  } catch (...) {
    throw NodeError(id, "unknown exception");
  }
}

void Flow::stop(StopReason why, bool cancel) {
  StopReason none = StopReason::none;
  reason_.compare_exchange_strong(none, why);
  stop_.store(true);
  if (!cancel) return;
  {
    std::lock_guard l(context_mutex_);
    ++stops_in_progress_;
    if (context_) context_->cancel_group_execution();
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
  for (auto& p : plan_.chain) {
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
  s.read = read_.load();
  s.finished = finished_.load() + skipped_.load() + other_shard_.load();
  s.rejected = rejected_.load();
  s.bytes_read = bytes_read_.load();
  if (auto total = bytes_total_.load(); total >= 0) s.bytes_total = static_cast<std::uint64_t>(total);
  for (std::size_t i = 0; i < plan_.chain.size(); ++i)
    s.node_out.emplace_back(plan_.chain[i].entry->id, stats_[i].out.load());
  return s;
}

FlowResult Flow::run(const RunContext& run_ctx) {
  auto& chain = plan_.chain;
  // The error budget as of the batch the sink is writing: rows and rejects of every batch up to it,
  // so that a batch run stops committing exactly where its rejects went over the budget.
  std::atomic<std::uint64_t> rows_to_sink{0}, rejects_to_sink{0};
  std::atomic<bool> budget_spent{false};  // once over, later batches do not commit either
  RunContext ctx = run_ctx;
  ctx.budget_mark = [&rows_to_sink, &rejects_to_sink] {
    return BudgetMark{rows_to_sink.load(), rejects_to_sink.load()};
  };
  ctx.over_budget = [this, &budget_spent](const BudgetMark& at, std::uint64_t more) {
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
  for (auto& p : chain) std::visit([&](auto& body) { body->open(ctx); }, p.body);

  auto& source = *std::get<std::unique_ptr<SourceNode>>(chain.front().body);
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(chain.back().body);
  if (auto total = source.bytes_total()) bytes_total_.store(static_cast<std::int64_t>(*total));
  const std::string& source_id = chain.front().entry->id;
  const std::string& sink_id = chain.back().entry->id;
  const auto batch_size = static_cast<std::size_t>(plan_.run.batch_size);
  const auto max_batches =
      static_cast<std::size_t>(std::max<std::int64_t>(1, plan_.run.in_flight / plan_.run.batch_size));

  const int cores = oneapi::tbb::info::default_concurrency();
  const int threads = plan_.run.threads ? static_cast<int>(*plan_.run.threads) : cores;
  // More threads than cores need TBB's global_control, which the command line sets for the process.
  oneapi::tbb::task_arena arena(threads);

  Stats* stats = stats_.get();
  std::atomic<std::int64_t> in_flight{0};
  WriteCounts written;  // only the serial sink node touches it
  FlowResult result;
  result.threads = threads;
  auto start = Clock::now();
  auto watchdog = std::make_unique<Watchdog>(*this, deadline_);

  // The graph must be built inside execute(): it runs in the arena it was constructed in.
  arena.execute([&] {
    oneapi::tbb::task_group_context tgc;
    flow::graph g(tgc);
    flow::limiter_node<Message, int> limiter(g, max_batches);
    auto finish_piece = [&](const std::shared_ptr<Ticket>& t) {
      if (t->pieces.fetch_sub(1) == 1) limiter.decrementer().try_put(1);
    };
    auto write_rejects = [&](const std::vector<Reject>& rs, const std::vector<std::string>* header) {
      if (rs.empty()) return;
      rejects_.write(rs, header);
      if (on_rejects) on_rejects(rs, header);
      auto total = rejected_ += rs.size();
      finished_ += rs.size();
      in_flight -= static_cast<std::int64_t>(rs.size());
      if (plan_.budget.max_rejects && total > static_cast<std::uint64_t>(*plan_.budget.max_rejects))
        stop(StopReason::error_budget, false);
    };

    std::uint64_t sequence = 0;
    flow::input_node<Message> input(g, [&](oneapi::tbb::flow_control& fc) -> Message {
      if (stop_.load(std::memory_order_relaxed)) {
        fc.stop();
        return {};
      }
      auto batch = std::make_shared<Batch>();
      batch->sequence = sequence;
      bool any = guarded(source_id, stats[0], [&] { return source.next(*batch, batch_size); });
      bytes_read_.store(source.bytes_read());
      if (!any) {
        fc.stop();
        return {};
      }
      ++sequence;
      // A sharded run's rows of other shards end here, counted.
      const std::uint64_t other = plan_.key_field ? keep_shard(*batch, ctx.shard, *plan_.key_field) : 0;
      other_shard_ += other;
      auto n = batch->records.size() + batch->rejects.size();
      read_ += n + batch->skipped + other;
      skipped_ += batch->skipped;
      in_flight += static_cast<std::int64_t>(n);
      stats[0].in += n + batch->skipped + other;
      stats[0].out += batch->records.size();
      stats[0].rejected += batch->rejects.size();
      auto ticket = std::make_shared<Ticket>();
      ticket->rows = n + batch->skipped;
      return Message{std::move(batch), std::move(ticket)};
    });

    flow::function_node<RejectMessage, flow::continue_msg> rejects_node(g, flow::serial, [&](const RejectMessage& m) {
      guarded("rejects", rejects_stats_, [&] { write_rejects(*m.rejects, m.header.get()); });
      finish_piece(m.ticket);
      return flow::continue_msg();
    });

    using Transform = flow::multifunction_node<Message, std::tuple<Message, RejectMessage>>;
    using Async = flow::async_node<Message, Message>;
    // Sends a batch's rejects to the rejects node and the batch itself on.
    auto split = [&](const Message& m, Transform::output_ports_type& ports) {
      Batch& b = *m.batch;
      if (!b.rejects.empty()) {
        m.ticket->pieces.fetch_add(1);
        m.ticket->rejects += b.rejects.size();
        // Source rejects and this node's arrive here together; the output reads best in line order.
        std::stable_sort(b.rejects.begin(), b.rejects.end(),
                         [](const Reject& x, const Reject& y) { return x.line < y.line; });
        RejectMessage r{std::make_shared<std::vector<Reject>>(std::move(b.rejects)), b.raw_header, m.ticket};
        b.rejects.clear();
        std::get<1>(ports).try_put(r);
      }
      // Emptied batches go on too: the sequencer needs every sequence number.
      std::get<0>(ports).try_put(m);
    };
    std::vector<std::unique_ptr<Transform>> transforms;
    std::vector<std::unique_ptr<Async>> asyncs;
    std::vector<flow::receiver<Message>*> stage_in;  // where each transform stage takes batches
    for (std::size_t i = 1; i + 1 < chain.size(); ++i) {
      const std::string& id = chain[i].entry->id;
      std::size_t concurrency = chain[i].concurrency ? chain[i].concurrency : std::size_t{flow::unlimited};
      if (auto* sync = std::get_if<std::unique_ptr<TransformNode>>(&chain[i].body)) {
        TransformNode& body = **sync;
        transforms.push_back(std::make_unique<Transform>(
            g, concurrency, [&, i, id](const Message& m, Transform::output_ports_type& ports) {
              Batch& b = *m.batch;
              std::size_t rejects_before = b.rejects.size();
              stats[i].in += b.records.size();
              guarded(id, stats[i], [&] { body.process(b); });
              stats[i].out += b.records.size();
              stats[i].rejected += b.rejects.size() - rejects_before;
              split(m, ports);
            }));
        stage_in.push_back(transforms.back().get());
        continue;
      }
      // Work that completes on another thread: the body hands the batch over and returns, and the
      // reservation keeps wait_for_all() from returning until `done` has put the batch back.
      AsyncTransformNode& body = *std::get<std::unique_ptr<AsyncTransformNode>>(chain[i].body);
      asyncs.push_back(
          std::make_unique<Async>(g, flow::unlimited, [&, i, id](const Message& m, Async::gateway_type& gw) {
            Batch& b = *m.batch;
            std::size_t rejects_before = b.rejects.size();
            stats[i].in += b.records.size();
            auto t0 = Clock::now();
            Stats& st = stats[i];
            gw.reserve_wait();
            try {
              // Runs on the node's own thread, where a throw would reach nobody: an error fails the
              // run instead, and the reservation is released on every path.
              body.start(m.batch, [this, &gw, &st, m, t0, rejects_before, id](std::exception_ptr error) {
                if (!error) {
                  try {
                    auto ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count());
                    st.busy_ns += ns;
                    st.latency.record(ns);
                    st.out += m.batch->records.size();
                    st.rejected += m.batch->rejects.size() - rejects_before;
                    gw.try_put(m);
                  } catch (...) {
                    error = std::current_exception();
                  }
                }
                // The batch of a failed completion is not passed on: its rows count as not processed.
                if (error) fail_node(id, error);
                gw.release_wait();
              });
            } catch (const std::exception& e) {
              gw.release_wait();
              throw NodeError(id, e.what());
            }
          }));
      transforms.push_back(std::make_unique<Transform>(g, flow::unlimited, split));
      flow::make_edge(*asyncs.back(), *transforms.back());
      stage_in.push_back(asyncs.back().get());
    }

    const std::size_t last = chain.size() - 1;
    flow::function_node<Message, flow::continue_msg> sink_node(g, flow::serial, [&](const Message& m) {
      Batch& b = *m.batch;
      stats[last].in += b.records.size();
      rows_to_sink += m.ticket->rows;
      rejects_to_sink += m.ticket->rejects.load() + b.rejects.size();
      // Rejects still in the batch come from a source wired straight to the sink.
      guarded("rejects", rejects_stats_, [&] { write_rejects(b.rejects, b.raw_header.get()); });
      b.rejects.clear();
      WriteCounts c = guarded(sink_id, stats[last], [&] { return sink.write(b); });
      written += c;
      finished_ += c.total();
      in_flight -= static_cast<std::int64_t>(c.total());
      stats[last].out += c.total();
      stats[last].rejected += b.rejects.size();
      guarded("rejects", rejects_stats_, [&] { write_rejects(b.rejects, b.raw_header.get()); });
      finish_piece(m.ticket);
      return flow::continue_msg();
    });
    flow::sequencer_node<Message> sequencer(g, [](const Message& m) { return m.batch->sequence; });

    flow::make_edge(input, limiter);
    // One entry of `transforms` per stage: the transform itself, or the splitter after an async node.
    flow::sender<Message>* tail = &limiter;
    for (std::size_t k = 0; k < stage_in.size(); ++k) {
      flow::make_edge(*tail, *stage_in[k]);
      flow::make_edge(flow::output_port<1>(*transforms[k]), rejects_node);
      tail = &flow::output_port<0>(*transforms[k]);
    }
    if (plan_.run.ordered) {
      flow::make_edge(*tail, sequencer);
      tail = &sequencer;
    }
    flow::make_edge(*tail, sink_node);

    {
      std::lock_guard l(context_mutex_);
      context_ = &tgc;
    }
    // A stop that came before the context existed (a signal during start-up) still cancels.
    if (reason_.load() == StopReason::deadline || reason_.load() == StopReason::interrupted)
      tgc.cancel_group_execution();
    input.activate();
    try {
      g.wait_for_all();
    } catch (const RunCancelled&) {
      // The run was being cancelled anyway; the rows involved are counted as not processed.
    } catch (...) {
      result.error = std::current_exception();
    }
    // Batches the sink finished after their write() returned.
    try {
      LateRows late = guarded(sink_id, stats[last], [&] { return sink.drain(); });
      written += late.counts;
      finished_ += late.counts.total();
      in_flight -= static_cast<std::int64_t>(late.counts.total());
      stats[last].out += late.counts.total();
      stats[last].rejected += late.rejects.size();
      write_rejects(late.rejects, late.header.get());
    } catch (const RunCancelled&) {
    } catch (...) {
      if (!result.error) result.error = std::current_exception();
    }
    std::unique_lock l(context_mutex_);
    context_ = nullptr;
    // A failure from another thread explains the run's end better than the cancellation it caused.
    stops_done_.wait(l, [this] { return stops_in_progress_ == 0; });
    if (failure_) result.error = failure_;
  });

  watchdog.reset();  // a deadline that passes while the nodes close must not abort their commits
  result.stop = reason_.load();
  if (result.stop == StopReason::none && plan_.budget.max_reject_ratio && read_ > 0 &&
      ratio_exceeded(rejected_.load(), read_.load() - other_shard_.load(), *plan_.budget.max_reject_ratio))
    result.stop = StopReason::error_budget;
  bool complete = !result.error && result.stop == StopReason::none;
  for (std::size_t i = 1; i + 1 < chain.size(); ++i) {
    try {
      std::visit(
          [](auto& body) {
            using T = std::decay_t<decltype(*body)>;
            if constexpr (std::is_same_v<T, TransformNode> || std::is_same_v<T, AsyncTransformNode>) body->close();
          },
          chain[i].body);
    } catch (const std::exception& e) {
      if (!result.error) result.error = std::make_exception_ptr(NodeError(chain[i].entry->id, e.what()));
    }
  }
  auto take_back = [&](const WriteCounts& undone) {
    written.inserted -= undone.inserted;
    written.updated -= undone.updated;
    written.unchanged -= undone.unchanged;
    written.written -= undone.written;
    written.relisted -= undone.relisted;
    in_flight += static_cast<std::int64_t>(undone.total());
  };
  try {
    take_back(sink.close(complete));
  } catch (const SinkCloseError& e) {
    take_back(e.undone());
    if (!result.error) result.error = std::make_exception_ptr(NodeError(sink_id, e.what()));
  } catch (const std::exception& e) {
    if (!result.error) result.error = std::make_exception_ptr(NodeError(sink_id, e.what()));
  }

  result.sync = sink.sync();
  result.health = sink.health_changes();
  for (const auto& node : chain) {
    if (const auto* async = std::get_if<std::unique_ptr<AsyncTransformNode>>(&node.body))
      if (auto report = (*async)->check_report()) result.checks = std::move(report);
  }
  result.wall = Clock::now() - start;
  result.read = read_;
  result.skipped = skipped_;
  result.other_shard = other_shard_;
  result.sink = written;
  result.rejected = rejected_;
  result.not_processed = static_cast<std::uint64_t>(std::max<std::int64_t>(0, in_flight.load()));
  result.bytes_read = source.bytes_read();
  result.bytes_total = source.bytes_total();
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const Stats& s = stats[i];
    NodeCounts n;
    n.id = chain[i].entry->id;
    n.type = std::string(chain[i].type->name);
    n.in = s.in;
    n.out = s.out;
    n.rejected = s.rejected;
    n.calls = s.latency.count();
    n.busy_seconds = static_cast<double>(s.busy_ns.load()) / 1e9;
    n.retries = std::visit([](const auto& body) { return body->retries(); }, chain[i].body);
    n.p50 = static_cast<double>(s.latency.percentile(0.50)) / 1e9;
    n.p95 = static_cast<double>(s.latency.percentile(0.95)) / 1e9;
    n.p99 = static_cast<double>(s.latency.percentile(0.99)) / 1e9;
    n.max = static_cast<double>(s.latency.max()) / 1e9;
    result.nodes.push_back(n);
  }
  if (complete && !result.error && result.not_processed != 0) {
    result.error = std::make_exception_ptr(
        std::logic_error(std::to_string(result.not_processed) + " rows were read but neither written nor rejected"));
  }
  return result;
}

}  // namespace sluice
