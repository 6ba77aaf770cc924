// DbPool: blocking database work on a WorkerPool whose threads each own one libpqxx connection,
// off CAF's cooperative scheduler and off Pistache's reactor threads. The queue is bounded; a full
// queue is answered at once with `unavailable` (back-pressure instead of unbounded memory).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "domain/result.hpp"
#include "persistence/worker_pool.hpp"

namespace wallet::persistence {

class DbPool {
 public:
  DbPool(std::string url, int threads, size_t max_queue);
  ~DbPool();
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Runs `work` on a pool thread and hands its result (or the classified database error) to
  // `done`, also on that thread. Exceptions thrown by `work` never escape.
  template <class T>
  void run(std::string operation, std::function<T(pqxx::connection&)> work,
           std::function<void(domain::Result<T>)> done) {
    struct State {
      std::function<void(domain::Result<T>)> done;
      bool answered = false;
    };
    auto state = std::make_shared<State>(State{std::move(done)});
    enqueue(Job{std::move(operation),
                [work = std::move(work), state](pqxx::connection& conn) {
                  T value = work(conn);
                  state->answered = true;
                  state->done(domain::Result<T>(std::move(value)));
                },
                [state](const domain::Error& error) {
                  if (state->answered) return;  // `done` itself threw: it was already called
                  state->answered = true;
                  state->done(error);
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
    std::function<void(const domain::Error&)> fail;
  };

  void enqueue(Job job);
  void execute(Job& job);

  const std::string url_;
  WorkerPool workers_;
};

}  // namespace wallet::persistence
