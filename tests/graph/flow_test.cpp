// The flow graph: accounting, order, back-pressure, fatal errors and stopping, with test-only node bodies.
#include "graph/flow.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "support/test_support.hpp"

namespace sluice {
namespace {

std::atomic<std::int64_t> g_finished{0};

class CountingSource final : public SourceNode {
 public:
  CountingSource(std::uint64_t rows, std::int64_t* max_outstanding) : rows_(rows), max_outstanding_(max_outstanding) {}
  void open(const RunContext&) override {}
  bool next(Batch& out, std::size_t max_records) override {
    if (max_outstanding_)
      *max_outstanding_ = std::max(*max_outstanding_, static_cast<std::int64_t>(emitted_) - g_finished.load());
    std::size_t n = 0;
    while (n < max_records && emitted_ < rows_) {
      Record r;
      r.line = ++emitted_ + 1;
      r.values = {std::int64_t(static_cast<std::int64_t>(emitted_))};
      r.raw = {std::to_string(emitted_)};
      out.records.push_back(std::move(r));
      ++n;
    }
    return n > 0;
  }

  // Plain members, as in real sources: only the thread that calls next() may read them.
  std::uint64_t bytes_read() const override { return emitted_ * 10; }
  std::optional<std::uint64_t> bytes_total() const override { return rows_ * 10; }
  void abort() override {
    if (!throw_on_abort) return;
    // Slow to fail, so the graph has ended its cancelled tasks long before the failure is recorded.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    throw std::runtime_error("abort failed");
  }
  bool throw_on_abort = false;

 private:
  std::uint64_t rows_;
  std::uint64_t emitted_ = 0;
  std::int64_t* max_outstanding_;
};

// Rejects every seventh record and takes a random short time, so batches finish out of order.
class JitterTransform final : public TransformNode {
 public:
  explicit JitterTransform(bool throw_at_500) : throw_at_500_(throw_at_500) {}
  void process(Batch& b) override {
    thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
    b.filter("jitter", [&](Record& r) -> std::optional<RejectReason> {
      auto v = std::get<std::int64_t>(r.values[0]);
      if (throw_at_500_ && v == 500) throw std::runtime_error("boom at 500");
      if (v % 7 == 0) return RejectReason{"seven", "divisible by 7"};
      return std::nullopt;
    });
  }

 private:
  bool throw_at_500_;
};

class CollectSink final : public SinkNode {
 public:
  explicit CollectSink(std::vector<std::int64_t>* seen) : seen_(seen) {}
  void open(const RunContext&) override {}
  WriteCounts write(Batch& b) override {
    if (slow) std::this_thread::sleep_for(std::chrono::microseconds(200));
    for (const auto& r : b.records) seen_->push_back(std::get<std::int64_t>(r.values[0]));
    g_finished += static_cast<std::int64_t>(b.records.size());
    return WriteCounts{b.records.size(), 0, 0, 0};
  }
  WriteCounts close(bool complete) override {
    closed_complete = complete;
    return {};
  }
  bool closed_complete = false;
  bool slow = false;  // a slow sink makes the source run into the limiter

 private:
  std::vector<std::int64_t>* seen_;
};

// Completes batches on its own thread, like a download node; the batch holding row `fail_at`
// completes with an error.
class ThreadedAsync final : public AsyncTransformNode {
 public:
  explicit ThreadedAsync(std::int64_t fail_at) : fail_at_(fail_at), worker_([this] { work(); }) {}
  ~ThreadedAsync() override {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void start(std::shared_ptr<Batch> batch, std::function<void(std::exception_ptr)> done) override {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(batch), std::move(done));
    }
    cv_.notify_all();
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [batch, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      bool fail = false;
      for (const auto& r : batch->records) fail = fail || std::get<std::int64_t>(r.values[0]) == fail_at_;
      done(fail ? std::make_exception_ptr(std::runtime_error("completion failed")) : nullptr);
      lock.lock();
    }
  }

  std::int64_t fail_at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::shared_ptr<Batch>, std::function<void(std::exception_ptr)>>> queue_;
  bool closing_ = false;
  std::thread worker_;  // last: starts once the rest exists
};

const ObjectSpec& empty_spec() {
  static const ObjectSpec s{};
  return s;
}
NodeBody no_make(NodeBuildContext&) {
  return {};
}
const NodeType kSourceType{"test_source", NodeRole::source, true, "test", &empty_spec, "", &no_make};
const NodeType kTransformType{"test_transform", NodeRole::transform, true, "test", &empty_spec, "", &no_make};
const NodeType kSinkType{"test_sink", NodeRole::sink, false, "test", &empty_spec, "", &no_make};

struct TestFlow {
  NodeEntry source_entry, transform_entry, sink_entry;
  Plan plan;
  std::vector<std::int64_t> seen;
  CollectSink* sink = nullptr;
  test::TempDir dir;
  RejectsWriter rejects;

  TestFlow(std::uint64_t rows, RunSettings run, bool with_transform, bool throw_at_500 = false,
           std::int64_t* max_outstanding = nullptr) {
    g_finished = 0;
    source_entry.id = "src";
    transform_entry.id = "jitter";
    sink_entry.id = "sink";
    plan.run = run;
    plan.schema.add("n");
    plan.nodes.push_back(
        PlannedNode{&source_entry, &kSourceType, std::make_unique<CountingSource>(rows, max_outstanding), 0, {}});
    if (with_transform)
      plan.nodes.push_back(
          PlannedNode{&transform_entry, &kTransformType, std::make_unique<JitterTransform>(throw_at_500), 0, {}});
    auto s = std::make_unique<CollectSink>(&seen);
    sink = s.get();
    plan.nodes.push_back(PlannedNode{&sink_entry, &kSinkType, std::move(s), 0, {}});
    plan.connect_chain();
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

TEST(Flow, AccountsForEveryRowAndKeepsOrder) {
  TestFlow t(10000, settings(4, 37, 1000, true), true);
  Flow flow(t.plan, t.rejects);
  FlowResult r = flow.run(RunContext{});
  t.rejects.close();
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.read, 10000u);
  EXPECT_EQ(r.rejected, 10000u / 7);
  EXPECT_EQ(r.sink.written, 10000u - 10000u / 7);
  EXPECT_EQ(r.not_processed, 0u);
  EXPECT_TRUE(r.identity_holds());
  ASSERT_EQ(t.seen.size(), r.sink.written);
  EXPECT_TRUE(std::is_sorted(t.seen.begin(), t.seen.end()));
  EXPECT_TRUE(t.sink->closed_complete);
  EXPECT_EQ(test::read_lines(t.dir.file("rejects.ndjson")).size(), r.rejected);
  ASSERT_EQ(r.nodes.size(), 3u);
  EXPECT_EQ(r.nodes[1].rejected, r.rejected);
}

TEST(Flow, UnorderedRunsStillAccountForEveryRow) {
  TestFlow t(5000, settings(4, 10, 200, false), true);
  Flow flow(t.plan, t.rejects);
  FlowResult r = flow.run(RunContext{});
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.identity_holds());
  EXPECT_EQ(t.seen.size(), 5000u - 5000u / 7);
}

TEST(Flow, BoundsRecordsInFlight) {
  std::int64_t max_outstanding = 0;
  TestFlow t(20000, settings(2, 10, 100, true), false, false, &max_outstanding);
  t.sink->slow = true;
  Flow flow(t.plan, t.rejects);
  FlowResult r = flow.run(RunContext{});
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.sink.written, 20000u);
  // The limiter admits in_flight / batch_size batches; the input node holds one more ready.
  EXPECT_LE(max_outstanding, 100 + 10);
  EXPECT_GE(max_outstanding, 100);  // the bound was reached, so the check above means something
}

TEST(Flow, AnExceptionInANodeFailsTheRunNamingTheNode) {
  TestFlow t(2000, settings(2, 10, 100, true), true, true);
  Flow flow(t.plan, t.rejects);
  FlowResult r = flow.run(RunContext{});
  ASSERT_TRUE(r.error);
  try {
    std::rethrow_exception(r.error);
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "jitter");
    EXPECT_NE(std::string(e.what()).find("boom at 500"), std::string::npos);
  }
  EXPECT_FALSE(t.sink->closed_complete);
  EXPECT_TRUE(r.identity_holds());  // unfinished rows are counted as not processed
  EXPECT_GT(r.not_processed, 0u);
}

TEST(Flow, AStopRequestEndsTheRunWithUnfinishedRowsCounted) {
  TestFlow t(1'000'000, settings(2, 10, 100, true), true);
  Flow flow(t.plan, t.rejects);
  std::thread stopper([&] {
    while (g_finished.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    flow.stop(StopReason::interrupted, false);
  });
  FlowResult r = flow.run(RunContext{});
  stopper.join();
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.stop, StopReason::interrupted);
  EXPECT_LT(r.read, 1'000'000u);
  EXPECT_TRUE(r.identity_holds());
}

TEST(Flow, SnapshotsFromAnotherThreadReadOnlyTheFlowsOwnCounters) {
  TestFlow t(20000, settings(2, 10, 100, true), true);
  Flow flow(t.plan, t.rejects);
  std::atomic<bool> done{false};
  std::uint64_t last_bytes = 0;
  std::thread watcher([&] {
    while (!done.load()) {
      FlowSnapshot s = flow.snapshot();  // what the progress thread does; TSan checks it is race-free
      EXPECT_GE(s.bytes_read, last_bytes);
      last_bytes = s.bytes_read;
      if (s.bytes_total) {
        EXPECT_EQ(*s.bytes_total, 200000u);
      }
    }
  });
  FlowResult r = flow.run(RunContext{});
  done = true;
  watcher.join();
  EXPECT_EQ(r.bytes_read, 200000u);
  EXPECT_EQ(flow.snapshot().bytes_read, 200000u);
}

TEST(Flow, ANodeThatCannotAbortFailsTheRunInsteadOfEndingTheProcess) {
  TestFlow t(1'000'000, settings(2, 10, 100, true), true);
  static_cast<CountingSource*>(std::get<std::unique_ptr<SourceNode>>(t.plan.nodes.front().body).get())->throw_on_abort =
      true;
  Flow flow(t.plan, t.rejects);
  // The deadline fires on the watchdog's thread, which aborts the nodes.
  flow.set_deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  FlowResult r = flow.run(RunContext{});
  ASSERT_TRUE(r.error);
  try {
    std::rethrow_exception(r.error);
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "src");
    EXPECT_NE(std::string(e.what()).find("abort failed"), std::string::npos);
  }
  EXPECT_TRUE(r.identity_holds());
}

TEST(Flow, FailFromAnotherThreadEndsTheRunWithThatError) {
  TestFlow t(1'000'000, settings(2, 10, 100, true), true);
  Flow flow(t.plan, t.rejects);
  std::thread helper([&] {
    while (g_finished.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    flow.fail(std::make_exception_ptr(std::runtime_error("lock watch broke")));
  });
  FlowResult r = flow.run(RunContext{});
  helper.join();
  ASSERT_TRUE(r.error);
  try {
    std::rethrow_exception(r.error);
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "lock watch broke");
  }
  EXPECT_LT(r.read, 1'000'000u);
  EXPECT_FALSE(t.sink->closed_complete);
  EXPECT_TRUE(r.identity_holds());
}

TEST(Flow, AnErrorInAnAsyncCompletionFailsTheRunNamingTheNode) {
  TestFlow t(2000, settings(2, 10, 100, true), false);
  NodeEntry fetch_entry;
  fetch_entry.id = "fetch";
  t.plan.nodes.insert(t.plan.nodes.begin() + 1,
                      PlannedNode{&fetch_entry, &kTransformType, std::make_unique<ThreadedAsync>(500), 0, {}});
  t.plan.connect_chain();
  Flow flow(t.plan, t.rejects);
  FlowResult r = flow.run(RunContext{});  // returns: the failed batch's reservation was released
  ASSERT_TRUE(r.error);
  try {
    std::rethrow_exception(r.error);
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "fetch");
    EXPECT_NE(std::string(e.what()).find("completion failed"), std::string::npos);
  }
  EXPECT_FALSE(t.sink->closed_complete);
  EXPECT_TRUE(r.identity_holds());
  EXPECT_GT(r.not_processed, 0u);
  EXPECT_LT(r.sink.written, 2000u);
}

}  // namespace
}  // namespace sluice
