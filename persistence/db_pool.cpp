#include "persistence/db_pool.hpp"

#include <spdlog/spdlog.h>

#include "persistence/connection.hpp"

namespace wallet::persistence {

DbPool::DbPool(std::string url, int threads, size_t max_queue)
    : url_(std::move(url)), max_queue_(max_queue) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

DbPool::~DbPool() { stop(); }

void DbPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& worker : workers_) worker.join();
  // Work still queued gets an answer: every caller is told exactly once.
  for (auto& job : queue_) job.fail({domain::ErrorCode::unavailable, "the service is stopping"});
  queue_.clear();
}

size_t DbPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void DbPool::enqueue(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ && queue_.size() < max_queue_) {
      queue_.push_back(std::move(job));
      ready_.notify_one();
      return;
    }
  }
  job.fail({domain::ErrorCode::unavailable, "the database queue is full, retry later"});
}

bool DbPool::ping() const {
  try {
    auto conn = connect(url_);
    pqxx::nontransaction txn(*conn);
    txn.exec("SELECT 1");
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("event=db_ping_failed cause=\"{}\"", e.what());
    return false;
  }
}

void DbPool::worker_loop() {
  std::unique_ptr<pqxx::connection> conn;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      if (!conn || !conn->is_open()) conn = connect(url_);
      job.work(*conn);
    } catch (const std::exception& e) {
      if (is_connection_failure(e)) conn.reset();
      job.fail(database_error(e, job.operation));
    }
  }
}

}  // namespace wallet::persistence
