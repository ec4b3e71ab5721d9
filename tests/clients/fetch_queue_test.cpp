// Tests for the fetch queue: arrival order, per-host limits that keep each host's order, retries.
#include "clients/fetch_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sluice {
namespace {

struct Job : QueueEntry {
  std::string name;
};

class FetchQueueTest : public ::testing::Test {
 protected:
  // Adds jobs named like "a1": the letter is the host.
  void add(FetchQueue& q, std::initializer_list<const char*> names) {
    for (const char* n : names) {
      jobs_.push_back(std::make_unique<Job>());
      jobs_.back()->name = n;
      q.add(jobs_.back().get(), std::string("http://") + n[0] + ":80");
    }
  }
  // Starts whatever may start now; returns the names in the order they started.
  std::string start_all(FetchQueue& q, FetchQueue::Clock::time_point now = FetchQueue::Clock::now()) {
    std::string out;
    while (QueueEntry* e = q.next(now)) {
      q.started(e);
      running_.push_back(static_cast<Job*>(e));
      out += (out.empty() ? "" : " ") + static_cast<Job*>(e)->name;
    }
    return out;
  }
  Job* running(const std::string& name) {
    for (Job* j : running_)
      if (j->name == name) return j;
    return nullptr;
  }
  void finish(FetchQueue& q, const std::string& name) {
    Job* j = running(name);
    ASSERT_NE(j, nullptr) << name;
    q.stopped(j);
    q.remove(j);
    std::erase(running_, j);
  }
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Job*> running_;
};

TEST_F(FetchQueueTest, HostsAtTheirLimitWaitWhileOthersGoAhead) {
  const struct {
    std::size_t per_host;
    std::string first;  // what starts at once from a1 a2 a3 b1 a4 b2 c1
  } cases[] = {
      {1, "a1 b1 c1"},
      {2, "a1 a2 b1 b2 c1"},
      {3, "a1 a2 a3 b1 b2 c1"},
      {10, "a1 a2 a3 b1 a4 b2 c1"},
  };
  for (const auto& c : cases) {
    FetchQueue q(c.per_host);
    add(q, {"a1", "a2", "a3", "b1", "a4", "b2", "c1"});
    EXPECT_EQ(start_all(q), c.first) << c.per_host;
    running_.clear();
  }
}

TEST_F(FetchQueueTest, AFinishedTransferLetsItsHostsNextOneGoInOrder) {
  FetchQueue q(1);
  add(q, {"a1", "a2", "a3", "b1"});
  EXPECT_EQ(start_all(q), "a1 b1");
  finish(q, "b1");
  EXPECT_EQ(start_all(q), "");
  finish(q, "a1");
  EXPECT_EQ(start_all(q), "a2");
  add(q, {"a4", "c1"});
  EXPECT_EQ(start_all(q), "c1");
  finish(q, "a2");
  EXPECT_EQ(start_all(q), "a3");
  finish(q, "a3");
  EXPECT_EQ(start_all(q), "a4");
}

TEST_F(FetchQueueTest, DueRetriesGoAheadOfFreshWorkInTheOrderTheyFellDue) {
  using Clock = FetchQueue::Clock;
  FetchQueue q(10);
  add(q, {"a1", "b1"});
  EXPECT_EQ(start_all(q), "a1 b1");
  const auto t0 = Clock::now();
  Job* a1 = running("a1");
  Job* b1 = running("b1");
  q.stopped(a1);
  q.stopped(b1);
  running_.clear();
  q.retry_at(a1, t0 + std::chrono::milliseconds(20));
  q.retry_at(b1, t0 + std::chrono::milliseconds(10));
  EXPECT_EQ(q.sleeping(), 2u);
  EXPECT_EQ(q.next_due(), t0 + std::chrono::milliseconds(10));
  add(q, {"c1"});
  q.promote_due(t0 + std::chrono::milliseconds(5));
  EXPECT_EQ(start_all(q), "c1");
  q.promote_due(t0 + std::chrono::milliseconds(30));
  EXPECT_EQ(q.sleeping(), 0u);
  EXPECT_FALSE(q.next_due().has_value());
  add(q, {"d1"});
  EXPECT_EQ(start_all(q), "b1 a1 d1");
}

TEST_F(FetchQueueTest, AHostIsForgottenWhenNoTransferNamesItAndComesBackFresh) {
  FetchQueue q(1);
  add(q, {"a1", "a2"});
  EXPECT_EQ(start_all(q), "a1");
  finish(q, "a1");
  EXPECT_EQ(start_all(q), "a2");
  finish(q, "a2");
  EXPECT_EQ(start_all(q), "");
  add(q, {"a3"});
  EXPECT_EQ(start_all(q), "a3");  // not held back by the counts of the host's earlier transfers
}

TEST_F(FetchQueueTest, ARateLimitSpacesEachHostsStartsAndLetsOtherHostsGoAhead) {
  using namespace std::chrono_literals;
  FetchQueue q(10, 4.0);  // 4 per second: one start per 250 ms to a host
  add(q, {"a1", "a2", "a3", "b1", "b2"});
  const auto t0 = FetchQueue::Clock::time_point{} + 1h;
  EXPECT_EQ(start_all(q, t0), "a1 b1");
  EXPECT_EQ(start_all(q, t0 + 100ms), "");
  ASSERT_TRUE(q.next_due().has_value());
  EXPECT_EQ(*q.next_due(), t0 + 250ms);
  q.promote_due(t0 + 249ms);
  EXPECT_EQ(start_all(q, t0 + 249ms), "");
  q.promote_due(t0 + 250ms);
  // Each host's own order holds, and each starts once per interval.
  EXPECT_EQ(start_all(q, t0 + 250ms), "a2 b2");
  q.promote_due(t0 + 500ms);
  EXPECT_EQ(start_all(q, t0 + 500ms), "a3");
  EXPECT_EQ(start_all(q, t0 + 10s), "");
  // Finishing does not skip the wait: the next start of a still comes an interval after the last.
  add(q, {"a4"});
  finish(q, "a1");
  EXPECT_EQ(start_all(q, t0 + 600ms), "");
  q.promote_due(t0 + 750ms);
  EXPECT_EQ(start_all(q, t0 + 750ms), "a4");
}

TEST_F(FetchQueueTest, RetriesAreRateLimitedLikeFreshStarts) {
  using namespace std::chrono_literals;
  FetchQueue q(10, 2.0);  // one start per 500 ms
  add(q, {"a1"});
  const auto t0 = FetchQueue::Clock::time_point{} + 1h;
  EXPECT_EQ(start_all(q, t0), "a1");
  Job* a1 = running("a1");
  q.stopped(a1);
  std::erase(running_, a1);
  q.retry_at(a1, t0 + 10ms);
  q.promote_due(t0 + 10ms);
  EXPECT_EQ(start_all(q, t0 + 10ms), "");
  q.promote_due(t0 + 500ms);
  EXPECT_EQ(start_all(q, t0 + 500ms), "a1");
}

TEST_F(FetchQueueTest, WithoutARateLimitNothingWaits) {
  FetchQueue q(10);
  add(q, {"a1", "a2", "a3"});
  EXPECT_EQ(start_all(q), "a1 a2 a3");
  EXPECT_FALSE(q.next_due().has_value());
}

}  // namespace
}  // namespace sluice
