#include "runtime/worker_pool.hpp"

#include <spdlog/spdlog.h>

namespace wallet::runtime {

WorkerPool::WorkerPool(int threads, size_t max_queue) : max_queue_(max_queue) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { loop(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(std::function<void()> run, std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || queue_.size() >= max_queue_) return false;
  queue_.push_back({std::move(run), std::move(cancel)});
  ready_.notify_one();
  return true;
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void WorkerPool::stop() {
  std::deque<Task> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    left.swap(queue_);
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
  for (auto& task : left) {
    try {
      task.cancel();
    } catch (const std::exception& e) {
      spdlog::error("event=worker_cancel_failed cause=\"{}\"", e.what());
    }
  }
}

void WorkerPool::loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task.run();
    } catch (const std::exception& e) {
      spdlog::error("event=worker_task_failed cause=\"{}\"", e.what());
    }
  }
}

}  // namespace wallet::runtime
