// WorkerPool: a few threads for blocking calls (database work, NATS requests) kept off Pistache's
// reactor threads and CAF's scheduler. The queue is bounded: a full or stopping pool refuses at
// once, and every accepted task is either run or cancelled, exactly once.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wallet::runtime {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `run`; false (and neither function called) when the pool is full or stopping.
  // `cancel` is called instead of `run` for tasks still queued when the pool stops.
  bool submit(std::function<void()> run, std::function<void()> cancel);
  size_t queued() const;
  // Lets running tasks finish, cancels queued ones, joins the threads. Idempotent.
  void stop();

 private:
  struct Task {
    std::function<void()> run;
    std::function<void()> cancel;
  };
  void loop();

  const size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wallet::runtime
