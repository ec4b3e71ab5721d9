// input_node -> limiter -> nodes wired by the plan's edges -> (a sequencer per sink) -> sinks.
#include "graph/flow_graph.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>

#include "core/decimal.hpp"
#include "core/shard.hpp"

namespace sluice {
namespace {

namespace flow = oneapi::tbb::flow;
using Clock = std::chrono::steady_clock;

// One per batch read. The batch may split (records on, rejects to the rejects output, a router's
// ports, a fan-out's copies); the limiter gets its slot back when the last piece reaches a terminal
// node, so it bounds whole batches with all their copies.
struct Ticket {
  std::atomic<int> pieces{1};
  std::uint64_t rows = 0;                 // read into this batch
  std::atomic<std::uint64_t> rejects{0};  // split off on the way to the sinks
};

struct Message {
  std::shared_ptr<Batch> batch;
  std::shared_ptr<Ticket> ticket;
  std::size_t edge = 0;  // the plan edge it travels; the source's output has none
};

struct RejectMessage {
  std::shared_ptr<std::vector<Reject>> rejects;
  std::shared_ptr<const std::vector<std::string>> header;
  std::shared_ptr<Ticket> ticket;
};

// Times a node body and turns its exceptions into NodeError, which names the node.
template <class F>
auto guarded(const std::string& id, NodeTally& tally, F&& f) {
  struct Busy {
    NodeTally& s;
    Clock::time_point t0 = Clock::now();
    ~Busy() {
      auto ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count());
      s.busy_ns += ns;
      s.latency.record(ns);
    }
  } busy{tally};
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

// Source-to-sink paths: the most copies one batch can become at once.
std::size_t path_count(const Plan& plan) {
  std::vector<std::size_t> paths(plan.nodes.size(), 0);
  if (!paths.empty()) paths[0] = 1;
  std::size_t total = 0;
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    bool terminal = true;
    for (const auto& e : plan.edges)
      if (e.from == i) {
        paths[e.to] = std::min<std::size_t>(paths[e.to] + paths[i], 1024);
        terminal = false;
      }
    if (terminal) total = std::min<std::size_t>(total + paths[i], 1024);
  }
  return std::max<std::size_t>(total, 1);
}

}  // namespace

std::exception_ptr FlowGraph::run(const RunContext& ctx, int threads) {
  Plan& plan = flow_.plan_;
  FlowTally& tally = *flow_.tally_;
  const std::size_t n = plan.nodes.size();
  auto& source = *std::get<std::unique_ptr<SourceNode>>(plan.nodes.front().body);
  const std::string& source_id = plan.nodes.front().entry->id;
  const auto batch_size = static_cast<std::size_t>(plan.run.batch_size);
  // The in-flight bound counts every copy a fan-out makes.
  const auto max_batches = static_cast<std::size_t>(std::max<std::int64_t>(
      1, plan.run.in_flight / plan.run.batch_size / static_cast<std::int64_t>(path_count(plan))));
  std::vector<std::vector<std::vector<std::size_t>>> out_edges(n);  // node, port -> edges
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < plan.nodes[i].ports.size(); ++p) out_edges[i].push_back(plan.out_edges(i, p));
  std::vector<std::size_t> sink_of(n, SIZE_MAX);
  for (std::size_t s = 0; s < sinks_.size(); ++s) sink_of[sinks_[s].node] = s;

  std::exception_ptr error;
  // More threads than cores need TBB's global_control, which the command line sets for the process.
  oneapi::tbb::task_arena arena(threads);
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
      flow_.rejects_.write(rs, header);
      if (flow_.on_rejects) flow_.on_rejects(rs, header);
      auto total = tally.rejected += rs.size();
      tally.finished += rs.size();
      tally.in_flight -= static_cast<std::int64_t>(rs.size());
      if (plan.budget.max_rejects && total > static_cast<std::uint64_t>(*plan.budget.max_rejects))
        flow_.stop(StopReason::error_budget, false);
    };

    flow::function_node<RejectMessage, flow::continue_msg> rejects_node(g, flow::serial, [&](const RejectMessage& m) {
      guarded("rejects", tally.rejects(), [&] { write_rejects(*m.rejects, m.header.get()); });
      finish_piece(m.ticket);
      return flow::continue_msg();
    });

    std::vector<flow::receiver<Message>*> entry(n, nullptr);  // where each node takes its messages
    auto send = [&](std::size_t edge, Message m) {
      m.edge = edge;
      tally.edge(edge).sent += m.batch->records.size();
      entry[plan.edges[edge].to]->try_put(m);
    };
    // Sends a batch out of a port: each edge of the port gets its own batch, so that no two branches
    // ever share a mutable one. Rejects still in the batch travel with the first edge only.
    auto deliver = [&](std::size_t node, std::size_t port, Message m) {
      const auto& edges = out_edges[node][port];
      const std::size_t records = m.batch->records.size();
      tally.node(node).ports[port] += records;
      if (edges.empty()) {  // the planner connects every port; records here stay not processed
        finish_piece(m.ticket);
        return;
      }
      for (std::size_t k = 1; k < edges.size(); ++k) {
        auto copy = std::make_shared<Batch>();
        copy->sequence = m.batch->sequence;
        copy->records = m.batch->records;
        copy->raw_header = m.batch->raw_header;
        m.ticket->pieces.fetch_add(1);
        tally.copies += records;
        tally.in_flight += static_cast<std::int64_t>(records);
        send(edges[k], Message{std::move(copy), m.ticket, 0});
      }
      send(edges[0], std::move(m));
    };
    // Counts a message in at its node.
    auto receive = [&](std::size_t node, const Message& m) {
      const std::size_t records = m.batch->records.size();
      tally.edge(m.edge).received += records;
      tally.node(node).in += records;
    };
    // Sends a batch's rejects to the rejects node and counts what the node dropped on purpose.
    auto split = [&](std::size_t node, const Message& m) {
      Batch& b = *m.batch;
      if (b.filtered) {
        tally.node(node).filtered += b.filtered;
        tally.filtered += b.filtered;
        tally.finished += b.filtered;
        tally.in_flight -= static_cast<std::int64_t>(b.filtered);
        b.filtered = 0;
      }
      if (b.rejects.empty()) return;
      m.ticket->pieces.fetch_add(1);
      m.ticket->rejects += b.rejects.size();
      // Source rejects and this node's arrive here together; the output reads best in line order.
      std::stable_sort(b.rejects.begin(), b.rejects.end(),
                       [](const Reject& x, const Reject& y) { return x.line < y.line; });
      RejectMessage r{std::make_shared<std::vector<Reject>>(std::move(b.rejects)), b.raw_header, m.ticket};
      b.rejects.clear();
      rejects_node.try_put(r);
    };

    std::uint64_t sequence = 0;
    flow::input_node<Message> input(g, [&](oneapi::tbb::flow_control& fc) -> Message {
      if (flow_.stop_.load(std::memory_order_relaxed)) {
        fc.stop();
        return {};
      }
      auto batch = std::make_shared<Batch>();
      batch->sequence = sequence;
      NodeTally& st = tally.node(0);
      bool any = guarded(source_id, st, [&] { return source.next(*batch, batch_size); });
      tally.bytes_read.store(source.bytes_read());
      if (!any) {
        fc.stop();
        return {};
      }
      ++sequence;
      // A sharded run's rows of other shards end here, counted.
      const std::uint64_t other = plan.key_field ? keep_shard(*batch, ctx.shard, *plan.key_field) : 0;
      tally.other_shard += other;
      auto rows = batch->records.size() + batch->rejects.size();
      tally.read += rows + batch->skipped + other;
      tally.skipped += batch->skipped;
      tally.in_flight += static_cast<std::int64_t>(rows);
      st.in += rows + batch->skipped + other;
      st.skipped += batch->skipped + other;
      st.rejected += batch->rejects.size();
      auto ticket = std::make_shared<Ticket>();
      ticket->rows = rows + batch->skipped;
      return Message{std::move(batch), std::move(ticket), 0};
    });
    flow::function_node<Message, flow::continue_msg> source_out(g, flow::unlimited, [&](const Message& m) {
      deliver(0, 0, m);
      return flow::continue_msg();
    });

    std::vector<std::unique_ptr<flow::function_node<Message, flow::continue_msg>>> bodies;
    std::vector<std::unique_ptr<flow::async_node<Message, Message>>> asyncs;
    std::vector<std::unique_ptr<flow::sequencer_node<Message>>> sequencers;
    using Body = flow::function_node<Message, flow::continue_msg>;
    for (std::size_t i = 1; i < n; ++i) {
      PlannedNode& p = plan.nodes[i];
      const std::string& id = p.entry->id;
      NodeTally& st = tally.node(i);
      const std::size_t concurrency = p.concurrency ? p.concurrency : std::size_t{flow::unlimited};
      if (auto* sync = std::get_if<std::unique_ptr<TransformNode>>(&p.body)) {
        TransformNode& body = **sync;
        bodies.push_back(std::make_unique<Body>(g, concurrency, [&, i, id](const Message& m) {
          receive(i, m);
          Batch& b = *m.batch;
          std::size_t rejects_before = b.rejects.size();
          guarded(id, st, [&] { body.process(b); });
          st.rejected += b.rejects.size() - rejects_before;
          split(i, m);
          // Emptied batches go on too: a sequencer needs every sequence number.
          deliver(i, 0, m);
          return flow::continue_msg();
        }));
        entry[i] = bodies.back().get();
      } else if (auto* router = std::get_if<std::unique_ptr<RouterNode>>(&p.body)) {
        RouterNode& body = **router;
        bodies.push_back(std::make_unique<Body>(g, concurrency, [&, i, id](const Message& m) {
          receive(i, m);
          Batch& b = *m.batch;
          std::size_t rejects_before = b.rejects.size();
          std::vector<Batch> outs(plan.nodes[i].ports.size());
          guarded(id, st, [&] { body.route(b, outs); });
          st.rejected += b.rejects.size() - rejects_before;
          split(i, m);
          // Every port gets a batch, empty or not, so that a sequencer after it sees every number.
          m.ticket->pieces.fetch_add(static_cast<int>(outs.size()) - 1);
          for (std::size_t k = 0; k < outs.size(); ++k) {
            auto part = std::make_shared<Batch>(std::move(outs[k]));
            part->sequence = b.sequence;
            part->raw_header = b.raw_header;
            deliver(i, k, Message{std::move(part), m.ticket, 0});
          }
          return flow::continue_msg();
        }));
        entry[i] = bodies.back().get();
      } else if (auto* async_body = std::get_if<std::unique_ptr<AsyncTransformNode>>(&p.body)) {
        // Work that completes on another thread: the body hands the batch over and returns, and the
        // reservation keeps wait_for_all() from returning until `done` has put the batch back.
        AsyncTransformNode& body = **async_body;
        using Async = flow::async_node<Message, Message>;
        asyncs.push_back(std::make_unique<Async>(g, flow::unlimited, [&, i, id](const Message& m, Async::gateway_type& gw) {
          receive(i, m);
          Batch& b = *m.batch;
          std::size_t rejects_before = b.rejects.size();
          auto t0 = Clock::now();
          gw.reserve_wait();
          try {
            // Runs on the node's own thread, where a throw would reach nobody: an error fails the
            // run instead, and the reservation is released on every path.
            body.start(m.batch, [this, &gw, &st, m, t0, rejects_before, id](std::exception_ptr failed) {
              if (!failed) {
                try {
                  auto ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count());
                  st.busy_ns += ns;
                  st.latency.record(ns);
                  st.rejected += m.batch->rejects.size() - rejects_before;
                  gw.try_put(m);
                } catch (...) {
                  failed = std::current_exception();
                }
              }
              // The batch of a failed completion is not passed on: its rows count as not processed.
              if (failed) flow_.fail_node(id, failed);
              gw.release_wait();
            });
          } catch (const std::exception& e) {
            gw.release_wait();
            throw NodeError(id, e.what());
          }
          (void)b;
        }));
        bodies.push_back(std::make_unique<Body>(g, flow::unlimited, [&, i](const Message& m) {
          split(i, m);
          deliver(i, 0, m);
          return flow::continue_msg();
        }));
        flow::make_edge(*asyncs.back(), *bodies.back());
        entry[i] = asyncs.back().get();
      } else {
        SinkNode& sink = *std::get<std::unique_ptr<SinkNode>>(p.body);
        SinkTally& mine = sinks_[sink_of[i]];
        bodies.push_back(std::make_unique<Body>(g, flow::serial, [&, i, id](const Message& m) {
          receive(i, m);
          Batch& b = *m.batch;
          mine.rows += m.ticket->rows;
          mine.rejects += m.ticket->rejects.load() + b.rejects.size();
          // Rejects still in the batch come from a source wired straight to the sink.
          guarded("rejects", tally.rejects(), [&] { write_rejects(b.rejects, b.raw_header.get()); });
          b.rejects.clear();
          WriteCounts c = guarded(id, st, [&] { return sink.write(b); });
          mine.written += c;
          tally.finished += c.total();
          tally.in_flight -= static_cast<std::int64_t>(c.total());
          st.written += c.total();
          st.rejected += b.rejects.size();
          guarded("rejects", tally.rejects(), [&] { write_rejects(b.rejects, b.raw_header.get()); });
          finish_piece(m.ticket);
          return flow::continue_msg();
        }));
        entry[i] = bodies.back().get();
        if (plan.run.ordered) {
          sequencers.push_back(
              std::make_unique<flow::sequencer_node<Message>>(g, [](const Message& m) { return m.batch->sequence; }));
          flow::make_edge(*sequencers.back(), *bodies.back());
          entry[i] = sequencers.back().get();
        }
      }
    }
    flow::make_edge(input, limiter);
    flow::make_edge(limiter, source_out);

    {
      std::lock_guard l(flow_.context_mutex_);
      flow_.cancel_graph_ = [&tgc] { tgc.cancel_group_execution(); };
    }
    // A stop that came before the graph existed (a signal during start-up) still cancels.
    if (flow_.reason_.load() == StopReason::deadline || flow_.reason_.load() == StopReason::interrupted)
      tgc.cancel_group_execution();
    input.activate();
    try {
      g.wait_for_all();
    } catch (const RunCancelled&) {
      // The run was being cancelled anyway; the rows involved are counted as not processed.
    } catch (...) {
      error = std::current_exception();
    }
    // Batches the sinks finished after their write() returned.
    for (SinkTally& s : sinks_) {
      PlannedNode& p = plan.nodes[s.node];
      SinkNode& sink = *std::get<std::unique_ptr<SinkNode>>(p.body);
      NodeTally& st = tally.node(s.node);
      try {
        LateRows late = guarded(p.entry->id, st, [&] { return sink.drain(); });
        s.written += late.counts;
        tally.finished += late.counts.total();
        tally.in_flight -= static_cast<std::int64_t>(late.counts.total());
        st.written += late.counts.total();
        st.rejected += late.rejects.size();
        write_rejects(late.rejects, late.header.get());
      } catch (const RunCancelled&) {
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    std::lock_guard l(flow_.context_mutex_);
    flow_.cancel_graph_ = nullptr;
  });
  return error;
}

}  // namespace sluice
