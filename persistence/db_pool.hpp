// DbPool: blocking database work on a WorkerPool whose threads each own one Session (connection),
// off CAF's cooperative scheduler and off Pistache's reactor threads. The queue is bounded; a full
// queue is answered at once with `unavailable` (back-pressure instead of unbounded memory).
#pragma once

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "domain/result.hpp"
#include "persistence/session.hpp"
#include "runtime/worker_pool.hpp"

namespace wallet::persistence {

class DbPool {
 public:
  DbPool(std::string url, int threads, size_t max_queue, SessionOptions session = {});
  ~DbPool();
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Runs `work` on a pool thread and hands its result (or the classified database error) to
  // `done`, also on that thread. Exceptions thrown by `work` never escape.
  template <class T>
  void run(std::string operation, std::function<T(pqxx::connection&)> work,
           std::function<void(domain::Result<T>)> done) {
    run_classified<T>(
        std::move(operation), std::move(work),
        [done = std::move(done)](DbResult<T> result) { done(std::move(result).result()); });
  }

  // As run, but `done` gets the classified failure (retryable or not, invalid data, ...) for
  // callers that decide by it (the failure was logged already).
  template <class T>
  void run_classified(std::string operation, std::function<T(pqxx::connection&)> work,
                      std::function<void(DbResult<T>)> done) {
    struct State {
      std::function<void(DbResult<T>)> done;
      bool answered = false;
    };
    auto state = std::make_shared<State>(State{std::move(done)});
    enqueue(Job{std::move(operation),
                [work = std::move(work), state](pqxx::connection& conn) {
                  T value = work(conn);
                  state->answered = true;
                  state->done(DbResult<T>(std::move(value)));
                },
                [state](const DbFailure& failure) {
                  if (state->answered) return;  // `done` itself threw: it was already called
                  state->answered = true;
                  state->done(failure);
                }});
  }

  // Checks that a connection can be opened and answers `SELECT 1` (for /readyz); blocking.
  bool ping() const;

  size_t queued() const;
  void stop();

 private:
  struct Job {
    std::string operation;
    std::function<void(pqxx::connection&)> work;
    std::function<void(const DbFailure&)> fail;
  };

  void enqueue(Job job);
  void execute(Job& job);

  const std::string url_;
  const SessionOptions session_options_;
  runtime::WorkerPool workers_;
};

}  // namespace wallet::persistence
