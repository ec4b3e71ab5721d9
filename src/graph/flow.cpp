// The only user of TBB's flow graph: input_node -> limiter_node -> transforms -> (sequencer) -> sink.
#include "graph/flow.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <optional>

namespace sluice {
namespace {

namespace flow = oneapi::tbb::flow;
using Clock = std::chrono::steady_clock;

// One per batch read. The batch may split (records on, rejects to the rejects output); the limiter
// is given its slot back when the last piece reaches a terminal node, so it bounds whole batches.
struct Ticket {
  std::atomic<int> pieces{1};
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

struct Stats {
  std::atomic<std::uint64_t> in{0}, out{0}, rejected{0}, busy_ns{0};
};

// Times a node body and turns its exceptions into NodeError, which names the node.
template <class F>
auto guarded(const std::string& id, Stats& stats, F&& f) {
  auto t0 = Clock::now();
  struct Busy {
    Stats& s;
    Clock::time_point t0;
    ~Busy() {
      s.busy_ns += static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count());
    }
  } busy{stats, t0};
  try {
    return f();
  } catch (const NodeError&) {
    throw;
  } catch (const std::exception& e) {
    throw NodeError(id, e.what());
  } catch (...) {
    throw NodeError(id, "unknown exception");
  }
}

}  // namespace

FlowResult Flow::run(const RunContext& ctx) {
  auto& chain = plan_.chain;
  for (auto& p : chain) std::visit([&](auto& body) { body->open(ctx); }, p.body);

  auto& source = *std::get<std::unique_ptr<SourceNode>>(chain.front().body);
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(chain.back().body);
  const std::string& source_id = chain.front().entry->id;
  const std::string& sink_id = chain.back().entry->id;
  const auto batch_size = static_cast<std::size_t>(plan_.run.batch_size);
  const auto max_batches =
      static_cast<std::size_t>(std::max<std::int64_t>(1, plan_.run.in_flight / plan_.run.batch_size));

  const int cores = oneapi::tbb::info::default_concurrency();
  const int threads = plan_.run.threads ? static_cast<int>(*plan_.run.threads) : cores;
  std::optional<oneapi::tbb::global_control> allow_more;
  if (threads > cores)
    allow_more.emplace(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  oneapi::tbb::task_arena arena(threads);

  std::vector<Stats> stats(chain.size());
  Stats rejects_stats;
  std::atomic<std::uint64_t> read{0}, rejected{0};
  std::atomic<bool> budget_exceeded{false};
  WriteCounts written;  // only the serial sink node touches it
  std::atomic<std::int64_t> in_flight{0};
  FlowResult result;
  result.threads = threads;
  auto start = Clock::now();

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
      auto total = rejected += rs.size();
      in_flight -= static_cast<std::int64_t>(rs.size());
      if (plan_.budget.max_rejects && total > static_cast<std::uint64_t>(*plan_.budget.max_rejects)) {
        budget_exceeded = true;
        stop_.store(true);
      }
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
      if (!any) {
        fc.stop();
        return {};
      }
      ++sequence;
      auto n = batch->records.size() + batch->rejects.size();
      read += n;
      in_flight += static_cast<std::int64_t>(n);
      stats[0].in += n;
      stats[0].out += batch->records.size();
      stats[0].rejected += batch->rejects.size();
      return Message{std::move(batch), std::make_shared<Ticket>()};
    });

    flow::function_node<RejectMessage, flow::continue_msg> rejects_node(
        g, flow::serial, [&](const RejectMessage& m) {
          guarded("rejects", rejects_stats, [&] { write_rejects(*m.rejects, m.header.get()); });
          finish_piece(m.ticket);
          return flow::continue_msg();
        });

    using Transform = flow::multifunction_node<Message, std::tuple<Message, RejectMessage>>;
    std::vector<std::unique_ptr<Transform>> transforms;
    for (std::size_t i = 1; i + 1 < chain.size(); ++i) {
      auto& body = *std::get<std::unique_ptr<TransformNode>>(chain[i].body);
      const std::string& id = chain[i].entry->id;
      std::size_t concurrency = chain[i].concurrency ? chain[i].concurrency : std::size_t{flow::unlimited};
      transforms.push_back(std::make_unique<Transform>(
          g, concurrency, [&, i, id](const Message& m, Transform::output_ports_type& ports) {
            Batch& b = *m.batch;
            std::size_t rejects_before = b.rejects.size();
            stats[i].in += b.records.size();
            guarded(id, stats[i], [&] { body.process(b); });
            stats[i].out += b.records.size();
            stats[i].rejected += b.rejects.size() - rejects_before;
            if (!b.rejects.empty()) {
              m.ticket->pieces.fetch_add(1);
              // Source rejects and this node's arrive here together; the output reads best in line order.
              std::stable_sort(b.rejects.begin(), b.rejects.end(),
                               [](const Reject& x, const Reject& y) { return x.line < y.line; });
              RejectMessage r{std::make_shared<std::vector<Reject>>(std::move(b.rejects)), b.raw_header, m.ticket};
              b.rejects.clear();
              std::get<1>(ports).try_put(r);
            }
            // Emptied batches go on too: the sequencer needs every sequence number.
            std::get<0>(ports).try_put(m);
          }));
    }

    const std::size_t last = chain.size() - 1;
    flow::function_node<Message, flow::continue_msg> sink_node(g, flow::serial, [&](const Message& m) {
      Batch& b = *m.batch;
      stats[last].in += b.records.size();
      // Rejects still in the batch come from a source wired straight to the sink.
      guarded("rejects", rejects_stats, [&] { write_rejects(b.rejects, b.raw_header.get()); });
      b.rejects.clear();
      WriteCounts c = guarded(sink_id, stats[last], [&] { return sink.write(b); });
      written += c;
      in_flight -= static_cast<std::int64_t>(c.total());
      stats[last].out += c.total();
      stats[last].rejected += b.rejects.size();
      guarded("rejects", rejects_stats, [&] { write_rejects(b.rejects, b.raw_header.get()); });
      finish_piece(m.ticket);
      return flow::continue_msg();
    });
    flow::sequencer_node<Message> sequencer(g, [](const Message& m) { return m.batch->sequence; });

    flow::make_edge(input, limiter);
    flow::sender<Message>* tail = &limiter;
    for (auto& t : transforms) {
      flow::make_edge(*tail, *t);
      flow::make_edge(flow::output_port<1>(*t), rejects_node);
      tail = &flow::output_port<0>(*t);
    }
    if (plan_.run.ordered) {
      flow::make_edge(*tail, sequencer);
      tail = &sequencer;
    }
    flow::make_edge(*tail, sink_node);

    input.activate();
    try {
      g.wait_for_all();
    } catch (...) {
      result.error = std::current_exception();
    }
  });

  result.budget_exceeded = budget_exceeded.load();
  result.stopped = stop_.load() && !result.budget_exceeded;
  if (plan_.budget.max_reject_ratio && read > 0) {
    // rejected / read > ratio, compared exactly: rejected * 10^scale > units * read.
    const Decimal& ratio = *plan_.budget.max_reject_ratio;
    using detail::Int128;
    Int128 lhs = static_cast<Int128>(rejected.load()) * detail::pow10_128(ratio.scale());
    if (lhs > static_cast<Int128>(ratio.units()) * static_cast<Int128>(read.load())) result.budget_exceeded = true;
  }
  bool complete = !result.error && !result.stopped && !result.budget_exceeded;
  try {
    WriteCounts undone = sink.close(complete);
    written.inserted -= undone.inserted;
    written.updated -= undone.updated;
    written.unchanged -= undone.unchanged;
    written.written -= undone.written;
    in_flight += static_cast<std::int64_t>(undone.total());
  } catch (const std::exception& e) {
    if (!result.error) result.error = std::make_exception_ptr(NodeError(sink_id, e.what()));
  }

  result.wall = Clock::now() - start;
  result.read = read;
  result.sink = written;
  result.rejected = rejected;
  result.not_processed = static_cast<std::uint64_t>(std::max<std::int64_t>(0, in_flight.load()));
  result.bytes_read = source.bytes_read();
  for (std::size_t i = 0; i < chain.size(); ++i) {
    result.nodes.push_back(NodeCounts{chain[i].entry->id, std::string(chain[i].type->name), stats[i].in,
                                      stats[i].out, stats[i].rejected, stats[i].busy_ns.load() / 1e9});
  }
  if (complete && !result.error && result.not_processed != 0) {
    result.error = std::make_exception_ptr(std::logic_error(
        std::to_string(result.not_processed) + " rows were read but neither written nor rejected"));
  }
  return result;
}

}  // namespace sluice
