#include "persistence/db_pool.hpp"

#include <spdlog/spdlog.h>

namespace wallet::persistence {
namespace {

DbFailure refused(const std::string& message) {
  return DbFailure{FailureKind::transient, "", message, message};
}

}  // namespace

DbPool::DbPool(std::string url, int threads, size_t max_queue, SessionOptions session)
    : url_(std::move(url)), session_options_(session), workers_(threads, max_queue) {}

DbPool::~DbPool() { stop(); }

void DbPool::stop() { workers_.stop(); }

size_t DbPool::queued() const { return workers_.queued(); }

void DbPool::enqueue(Job job) {
  auto shared = std::make_shared<Job>(std::move(job));
  const bool accepted = workers_.submit(
      [this, shared] { execute(*shared); },
      // Work still queued when the pool stops gets an answer too: every caller is told once.
      [shared] { shared->fail(refused("the service is stopping")); });
  if (!accepted) shared->fail(refused("the database queue is full, retry later"));
}

bool DbPool::ping() const { return Session::ping(url_, session_options_); }

void DbPool::execute(Job& job) {
  // Each worker thread keeps its own session (a thread belongs to exactly one pool); the session
  // reconnects after a failure that broke its connection.
  thread_local std::unique_ptr<Session> session;
  if (!session) session = std::make_unique<Session>(url_, session_options_);
  auto done = session->run([&job](pqxx::connection& conn) { job.work(conn); });
  if (!done) {
    done.failure().log(job.operation);
    job.fail(done.failure());
  }
}

}  // namespace wallet::persistence
