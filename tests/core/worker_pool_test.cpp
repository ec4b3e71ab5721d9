// WorkerPool: every task runs once, wait_idle() waits for all of them, destruction runs what is left.
#include "core/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace sluice {
namespace {

TEST(WorkerPool, RunsEveryTaskOnceOnItsThreads) {
  std::atomic<int> ran{0};
  std::mutex m;
  std::set<std::thread::id> threads;
  {
    WorkerPool pool(2);
    for (int i = 0; i < 1000; ++i)
      pool.post([&] {
        ++ran;
        std::lock_guard l(m);
        threads.insert(std::this_thread::get_id());
      });
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 1000);
  }
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(threads.size(), 2u);
}

TEST(WorkerPool, WaitIdleWaitsForATaskInProgress) {
  WorkerPool pool(1);
  std::atomic<bool> done{false};
  pool.post([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
  });
  pool.wait_idle();
  EXPECT_TRUE(done.load());
}

TEST(WorkerPool, DestructionRunsWhatWasPosted) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1);
    pool.post([&] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); });
    for (int i = 0; i < 10; ++i) pool.post([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace sluice
