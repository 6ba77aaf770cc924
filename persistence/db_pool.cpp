#include "persistence/db_pool.hpp"

#include <spdlog/spdlog.h>

#include "persistence/connection.hpp"

namespace wallet::persistence {

DbPool::DbPool(std::string url, int threads, size_t max_queue)
    : url_(std::move(url)), workers_(threads, max_queue) {}

DbPool::~DbPool() { stop(); }

void DbPool::stop() { workers_.stop(); }

size_t DbPool::queued() const { return workers_.queued(); }

void DbPool::enqueue(Job job) {
  auto shared = std::make_shared<Job>(std::move(job));
  const bool accepted = workers_.submit(
      [this, shared] { execute(*shared); },
      // Work still queued when the pool stops gets an answer too: every caller is told once.
      [shared] { shared->fail({domain::ErrorCode::unavailable, "the service is stopping"}); });
  if (!accepted) {
    shared->fail({domain::ErrorCode::unavailable, "the database queue is full, retry later"});
  }
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

void DbPool::execute(Job& job) {
  // Each worker thread keeps its own connection (a thread belongs to exactly one pool), reopened
  // after a failure that broke it.
  thread_local std::unique_ptr<pqxx::connection> conn;
  try {
    if (!conn || !conn->is_open()) conn = connect(url_);
    job.work(*conn);
  } catch (const std::exception& e) {
    if (is_connection_failure(e)) conn.reset();
    job.fail(database_error(e, job.operation));
  }
}

}  // namespace wallet::persistence
