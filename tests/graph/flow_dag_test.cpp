// Graphs that branch: fan-out copies, routers, filters and merges, accounted for at every node and edge.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "graph/flow.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

// Emits rows 1..n with the value n in field 0; counts what it emitted for the memory bound.
class Numbers final : public SourceNode {
 public:
  Numbers(std::uint64_t rows, std::atomic<std::int64_t>* emitted) : rows_(rows), emitted_count_(emitted) {}
  void open(const RunContext&) override {}
  bool next(Batch& out, std::size_t max_records) override {
    std::size_t n = 0;
    while (n < max_records && emitted_ < rows_) {
      Record r;
      r.line = ++emitted_;
      r.values = {std::int64_t(static_cast<std::int64_t>(emitted_))};
      r.raw = {std::to_string(emitted_)};
      out.records.push_back(std::move(r));
      ++n;
    }
    if (emitted_count_) *emitted_count_ += static_cast<std::int64_t>(n);
    return n > 0;
  }

 private:
  std::uint64_t rows_, emitted_ = 0;
  std::atomic<std::int64_t>* emitted_count_;
};

// Sends multiples of 3 to port 0, other odd numbers to port 1, and drops the other even ones.
class Parity final : public RouterNode {
 public:
  explicit Parity(std::atomic<std::int64_t>* ended) : ended_(ended) {}
  void route(Batch& b, std::vector<Batch>& outs) override {
    for (auto& r : b.records) {
      auto v = std::get<std::int64_t>(r.values[0]);
      if (v % 3 == 0)
        outs[0].records.push_back(std::move(r));
      else if (v % 2 == 1)
        outs[1].records.push_back(std::move(r));
      else
        ++b.filtered;
    }
    b.records.clear();
    if (ended_) *ended_ += static_cast<std::int64_t>(b.filtered);
  }
  std::string filter_condition() const override { return "even and not a multiple of 3"; }

 private:
  std::atomic<std::int64_t>* ended_;
};

// Rejects multiples of 5 after a random short pause, so batches finish out of order. Counts the
// records it rejects as ended and those it passes on as copies to come (its output fans out to two).
class Jitter final : public TransformNode {
 public:
  Jitter(std::atomic<std::int64_t>* ended, std::atomic<std::int64_t>* copies) : ended_(ended), copies_(copies) {}
  void process(Batch& b) override {
    thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    b.filter("jitter", [&](Record& r) -> std::optional<RejectReason> {
      if (std::get<std::int64_t>(r.values[0]) % 5 == 0) return RejectReason{"five", "divisible by 5"};
      return std::nullopt;
    });
    if (ended_) *ended_ += static_cast<std::int64_t>(b.rejects.size());
    if (copies_) *copies_ += static_cast<std::int64_t>(b.records.size());
  }

 private:
  std::atomic<std::int64_t>*ended_, *copies_;
};

class Collect final : public SinkNode {
 public:
  Collect(std::atomic<std::int64_t>* finished, std::chrono::microseconds pause) : finished_(finished), pause_(pause) {}
  void open(const RunContext&) override {}
  WriteCounts write(Batch& b) override {
    if (pause_.count()) std::this_thread::sleep_for(pause_);
    for (const auto& r : b.records) seen.push_back(std::get<std::int64_t>(r.values[0]));
    if (finished_) *finished_ += static_cast<std::int64_t>(b.records.size());
    return WriteCounts{b.records.size(), 0, 0, 0};
  }
  WriteCounts close(bool complete) override {
    closed_complete = complete;
    return {};
  }
  std::vector<std::int64_t> seen;
  bool closed_complete = false;

 private:
  std::atomic<std::int64_t>* finished_;
  std::chrono::microseconds pause_;
};

const ObjectSpec& empty_spec() {
  static const ObjectSpec s{};
  return s;
}
NodeBody no_make(NodeBuildContext&) {
  return {};
}
const NodeType kSource{"test_source", NodeRole::source, true, "test", &empty_spec, "", &no_make};
const NodeType kTransform{"test_transform", NodeRole::transform, true, "test", &empty_spec, "", &no_make};
const NodeType kSink{"test_sink", NodeRole::sink, false, "test", &empty_spec, "", &no_make};

// read -> split(router: thirds | odd) ; thirds -> jitter -> {a, b} (a fan-out) ; odd -> c
struct Dag {
  std::vector<std::unique_ptr<NodeEntry>> entries;
  Plan plan;
  Collect *a = nullptr, *b = nullptr, *c = nullptr;
  std::atomic<std::int64_t> emitted{0}, finished{0}, copies{0};
  test::TempDir dir;
  RejectsWriter rejects;

  Dag(std::uint64_t rows, RunSettings run, std::chrono::microseconds slow_c = {}) {
    plan.run = run;
    plan.schema.add("n");
    auto add = [&](const char* id, const NodeType& type, NodeBody body, std::vector<std::string> ports) {
      entries.push_back(std::make_unique<NodeEntry>());
      entries.back()->id = id;
      plan.nodes.push_back(PlannedNode{entries.back().get(), &type, std::move(body), 0, std::move(ports)});
    };
    add("read", kSource, std::make_unique<Numbers>(rows, &emitted), {"out"});
    add("split", kTransform, std::make_unique<Parity>(&finished), {"thirds", "odd"});
    add("jitter", kTransform, std::make_unique<Jitter>(&finished, &copies), {"out"});
    auto sa = std::make_unique<Collect>(&finished, std::chrono::microseconds(0));
    auto sb = std::make_unique<Collect>(&finished, std::chrono::microseconds(0));
    auto sc = std::make_unique<Collect>(&finished, slow_c);
    a = sa.get();
    b = sb.get();
    c = sc.get();
    add("a", kSink, std::move(sa), {});
    add("b", kSink, std::move(sb), {});
    add("c", kSink, std::move(sc), {});
    plan.edges = {{0, 0, 1}, {1, 0, 2}, {1, 1, 5}, {2, 0, 3}, {2, 0, 4}};
    rejects.open(dir.file("rejects.ndjson"));
  }
};

RunSettings settings(int threads, std::int64_t batch, std::int64_t in_flight, bool ordered) {
  RunSettings r;
  r.threads = threads;
  r.batch_size = batch;
  r.in_flight = in_flight;
  r.ordered = ordered;
  return r;
}

const NodeCounts& node(const FlowResult& r, const std::string& id) {
  for (const auto& n : r.nodes)
    if (n.id == id) return n;
  throw std::runtime_error("no node " + id);
}

TEST(FlowDag, EveryRowIsAccountedOncePerBranchUnderRandomBatchesAndThreads) {
  std::mt19937 rng(20261130);
  for (int round = 0; round < 12; ++round) {
    const std::uint64_t rows = 1 + rng() % 5000;
    const int threads = 1 + static_cast<int>(rng() % 4);
    const std::int64_t batch = 1 + rng() % 300;
    const bool ordered = rng() % 2 == 0;
    Dag d(rows, settings(threads, batch, batch * (1 + rng() % 8), ordered));
    Flow flow(d.plan, d.rejects);
    FlowResult r = flow.run(RunContext{});
    SCOPED_TRACE("rows " + std::to_string(rows) + ", threads " + std::to_string(threads) + ", batch " +
                 std::to_string(batch) + (ordered ? ", ordered" : ""));
    ASSERT_FALSE(r.error);
    std::vector<std::int64_t> thirds, odd;
    for (std::int64_t v = 1; v <= static_cast<std::int64_t>(rows); ++v) {
      if (v % 3 == 0) {
        if (v % 5 != 0) thirds.push_back(v);
      } else if (v % 2 == 1) {
        odd.push_back(v);
      }
    }
    auto sorted = [&](std::vector<std::int64_t> v) {
      if (!ordered) std::sort(v.begin(), v.end());
      return v;
    };
    // Each branch sees exactly its rows, once, and in input order when the run is ordered.
    EXPECT_EQ(sorted(d.a->seen), thirds);
    EXPECT_EQ(sorted(d.b->seen), thirds);
    EXPECT_EQ(sorted(d.c->seen), odd);
    const std::uint64_t fives = rows / 15;
    const std::uint64_t dropped = rows - rows / 3 - odd.size();
    EXPECT_EQ(r.read, rows);
    EXPECT_EQ(r.rejected, fives);
    EXPECT_EQ(r.filtered, dropped);
    EXPECT_EQ(r.copies, thirds.size());
    EXPECT_EQ(r.sink.written, 2 * thirds.size() + odd.size());
    EXPECT_EQ(r.not_processed, 0u);
    EXPECT_TRUE(r.identity_holds());
    ASSERT_EQ(r.sinks.size(), 3u);
    for (const auto& s : r.sinks) EXPECT_TRUE(s.identity_holds()) << s.id;
    const NodeCounts& split = node(r, "split");
    EXPECT_EQ(split.in, rows);
    ASSERT_EQ(split.ports.size(), 2u);
    EXPECT_EQ(split.ports[0].second, rows / 3);
    EXPECT_EQ(split.ports[1].second, odd.size());
    EXPECT_EQ(split.filtered, dropped);
    EXPECT_EQ(split.condition, "even and not a multiple of 3");
    for (const auto& e : r.edges) EXPECT_EQ(e.sent, e.received) << e.from << " -> " << e.to;
    EXPECT_TRUE(d.a->closed_complete && d.b->closed_complete && d.c->closed_complete);
  }
}

TEST(FlowDag, ASlowBranchKeepsMemoryBoundedCountingEveryCopy) {
  // Branch c sleeps on every batch; the others race ahead. Records between the source and the sinks,
  // copies included, stay within in_flight.
  const std::int64_t batch = 50, in_flight = 400;
  Dag d(20000, settings(4, batch, in_flight, false), std::chrono::microseconds(300));
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> worst{0};
  std::thread watch([&] {
    while (!done) {
      // Read before the rows that ended, so that the figure can only overstate.
      std::int64_t ended = d.finished.load();
      std::int64_t outstanding = d.emitted.load() + d.copies.load() - ended;
      std::int64_t w = worst.load();
      while (outstanding > w && !worst.compare_exchange_weak(w, outstanding)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  Flow flow(d.plan, d.rejects);
  FlowResult r = flow.run(RunContext{});
  done = true;
  watch.join();
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.identity_holds());
  // The source may hold one batch more while the limiter refuses it.
  EXPECT_LE(worst.load(), in_flight + batch) << "records held at once";
  EXPECT_GT(worst.load(), 0);
}

TEST(FlowDag, ACancelledRunReportsNotProcessedPerBranchAndClosesIncomplete) {
  Dag d(200000, settings(2, 100, 2000, true), std::chrono::microseconds(2000));
  Flow flow(d.plan, d.rejects);
  flow.set_deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(150));
  FlowResult r = flow.run(RunContext{});
  EXPECT_EQ(r.stop, StopReason::deadline);
  EXPECT_FALSE(r.error);  // a deadline is a stop, not an accounting failure
  EXPECT_LT(r.read, 200000u);
  EXPECT_TRUE(r.identity_holds());
  for (const auto& s : r.sinks) EXPECT_TRUE(s.identity_holds()) << s.id;
  std::uint64_t per_node = 0;
  for (const auto& n : r.nodes) per_node += n.not_processed;
  std::uint64_t on_edges = 0;
  for (const auto& e : r.edges) on_edges += e.sent - e.received;
  // Rows a node rejected whose rejects were still queued for the rejects output when the run stopped.
  std::uint64_t rejected_at_nodes = 0;
  for (const auto& n : r.nodes) rejected_at_nodes += n.rejected;
  // What the run did not finish is somewhere: in a node, queued on an edge or on its way to the rejects.
  EXPECT_EQ(per_node + on_edges + (rejected_at_nodes - r.rejected), r.not_processed);
  EXPECT_FALSE(d.a->closed_complete || d.b->closed_complete || d.c->closed_complete);
}

}  // namespace
}  // namespace sluice
