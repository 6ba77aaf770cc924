// DbPool: a few threads, each owning one libpqxx connection, running blocking database work off
// CAF's cooperative scheduler and off Pistache's reactor threads. Work is queued with a bound; a
// full queue is answered at once with `unavailable` (back-pressure instead of unbounded memory).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "domain/result.hpp"

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
  void worker_loop();

  const std::string url_;
  const size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace wallet::persistence
