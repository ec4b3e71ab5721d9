// WorkerPool: a queue under one mutex; tasks are few and long next to its cost.
#include "core/worker_pool.hpp"

namespace sluice {

WorkerPool::WorkerPool(std::size_t threads) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard l(mutex_);
    closing_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard l(mutex_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void WorkerPool::wait_idle() {
  std::unique_lock l(mutex_);
  idle_.wait(l, [&] { return tasks_.empty() && busy_ == 0; });
}

void WorkerPool::work() {
  std::unique_lock l(mutex_);
  for (;;) {
    ready_.wait(l, [&] { return closing_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // closing, and nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++busy_;
    l.unlock();
    task();
    task = nullptr;  // its captures die before the pool counts it done
    l.lock();
    if (--busy_ == 0 && tasks_.empty()) idle_.notify_all();
  }
}

}  // namespace sluice
