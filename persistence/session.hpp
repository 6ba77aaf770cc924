// Session: the one owner of a libpqxx connection. It connects with bounded timeouts, reconnects
// after a failure that broke the connection, and turns every libpqxx exception into a DbFailure
// (retryable or not, and the domain::Error a caller may answer with). No other code catches pqxx
// exceptions: repositories (user_store, ledger_store's free functions) let them propagate to the
// Session that runs them. Not thread-safe: one Session per thread (DbPool keeps one per worker).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "domain/error.hpp"
#include "domain/result.hpp"

namespace wallet::persistence {

struct SessionOptions {
  std::chrono::seconds connect_timeout{3};
  // Server-side bound on each statement (libpq `options=-c statement_timeout=`); 0: no bound.
  std::chrono::milliseconds statement_timeout{0};
  // plan_cache_mode=force_generic_plan: a prepared statement (ours, or one inside a PL/pgSQL
  // function) is planned once per connection, not per execution. Postgres' default re-plans a
  // statement for every execution whose custom plan looks cheaper than the generic one, which a
  // statement over array parameters always does (the array's length is known): the idempotency
  // lookup was planned on every call, a third of Postgres' CPU under load. Every statement of the
  // services is a short indexed OLTP statement whose generic plan is the right one.
  bool generic_plans = true;
  // A queue table's session (the ledger-events relay): enable_seqscan and enable_memoize off. The
  // queue swings from empty to a backlog of 100,000 rows between two analyzes; a plan made while
  // it looked empty (a seq scan) deleted each delivered batch by comparing every row with every
  // delivered id, O(rows x batch): 40 % of the ledger writer's CPU during a run of payments. Every
  // ledger row a pass looks up is another one, so a cache of lookups (Memoize) only costs.
  bool queue_plans = false;
  // TCP keepalives and a bound on unacknowledged writes, so that a peer that vanished (failover,
  // cable) breaks the connection within seconds instead of the kernel's two hours (the same values
  // as main's persistence::connect).
  int keepalives_idle_s = 5;
  int keepalives_interval_s = 2;
  int keepalives_count = 3;
  int tcp_user_timeout_ms = 10000;  // 0: not set
};

// Every session the services open bounds its statements, by role: the pools that serve requests
// by REQUEST_DEADLINE_MS-like DB_STATEMENT_TIMEOUT_MS (service config), the ledger writer by
// LEDGER_STATEMENT_TIMEOUT_MS, background relays and ownership by this; only migrations run
// unbounded (an index build may take long, and nothing waits for it but start-up).
constexpr std::chrono::milliseconds kBackgroundStatementTimeout{10'000};
inline SessionOptions background_session() {
  SessionOptions options;
  options.statement_timeout = kBackgroundStatementTimeout;
  return options;
}

// The connection URL with the session settings added; a setting already in the URL wins.
// Handles both URI (postgresql://...?a=b) and keyword/value (host=... a=b) forms.
std::string session_url(const std::string& url, const SessionOptions& options);

enum class FailureKind {
  connection,    // the connection is unusable or the server cannot take writes (read-only 25006,
                 // shutdown, cannot connect): reconnect, then retry
  transient,     // serialization failure, deadlock, statement timeout: retry the transaction
  invalid_data,  // SQLSTATE class 22: the server refuses this value; retrying cannot help
  internal,      // anything else (a bug, a constraint the caller did not expect): not retryable
};

struct DbFailure {
  FailureKind kind = FailureKind::internal;
  std::string sqlstate;  // empty when there is none (broken connection, non-SQL error)
  std::string cause;     // the library's text: for logs only, never for clients
  std::string message;   // what a client may read instead of the generic text; empty: generic

  bool retryable() const {
    return kind == FailureKind::connection || kind == FailureKind::transient;
  }
  // What a client may be told: `unavailable` (retry later) when retryable, else `internal`.
  domain::Error error() const;
  // Logs the failure of `operation` (warn when retryable, error otherwise) and returns error().
  domain::Error log(std::string_view operation) const;
};

// Classifies any exception a database call threw (libpqxx or not).
DbFailure classify(const std::exception& error);

// Open connections this process dropped because they failed (every Session of the process): a
// Postgres failover or restart shows here as a jump (read by /metrics).
uint64_t connections_lost();

// A value or a DbFailure.
template <class T>
class DbResult {
 public:
  DbResult(T value) : state_(std::move(value)) {}              // NOLINT: implicit by design
  DbResult(DbFailure failure) : state_(std::move(failure)) {}  // NOLINT: implicit by design
  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }
  const DbFailure& failure() const { return std::get<1>(state_); }
  // As the domain's Result (the failure becomes the error a client may see; nothing logged).
  domain::Result<T> result() && {
    if (ok()) return domain::Result<T>(std::move(std::get<0>(state_)));
    return domain::Result<T>(failure().error());
  }

 private:
  std::variant<T, DbFailure> state_;
};

// What a unit of work that returns nothing yields.
struct Done {};

// Exponential backoff: next() returns the current delay and doubles it, up to max.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
  std::chrono::milliseconds next() {
    const auto delay = current_;
    current_ = std::min(current_ * 2, max_);
    return delay;
  }
  std::chrono::milliseconds current() const { return current_; }
  void reset() { current_ = min_; }

 private:
  std::chrono::milliseconds min_, max_;
  std::chrono::milliseconds current_ = min_;
};

class Session {
 public:
  explicit Session(std::string url, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Called on each new connection before any work (prepare statements, LISTEN, ...). Its
  // failure counts as a failure of the work that opened the connection.
  void on_connect(std::function<void(pqxx::connection&)> setup) { setup_ = std::move(setup); }

  // Runs `work(connection)`, connecting first when there is no usable connection. Any exception
  // is caught and classified; a connection failure drops the connection (the next run reconnects).
  // `work` returning void yields Done.
  template <class F>
  auto run(F&& work) {
    using R = std::invoke_result_t<F&, pqxx::connection&>;
    using T = std::conditional_t<std::is_void_v<R>, Done, R>;
    std::variant<std::monostate, T> value;
    auto failure = attempt([&](pqxx::connection& conn) {
      if constexpr (std::is_void_v<R>) {
        work(conn);
        value.template emplace<1>();
      } else {
        value.template emplace<1>(work(conn));
      }
    });
    if (failure) return DbResult<T>(std::move(*failure));
    return DbResult<T>(std::move(std::get<1>(value)));
  }

  // Opens a fresh connection and runs `SELECT 1` on it (readiness checks); never throws.
  static bool ping(const std::string& url, const SessionOptions& options = {});

  bool connected() const;
  // Bumped on each new connection: session-level state (advisory locks, LISTEN) lives as long as
  // one connection, so a changed generation means that state is gone.
  uint64_t generation() const { return generation_; }
  void close();
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<DbFailure> attempt(const std::function<void(pqxx::connection&)>& work);

  const std::string url_;
  std::function<void(pqxx::connection&)> setup_;
  std::unique_ptr<pqxx::connection> conn_;
  uint64_t generation_ = 0;
};

// A session-level lock (an advisory lock taken by `try_take`) held by a Session's connection: it
// lives as long as that connection, so after a reconnect it is taken again. Call from inside
// session.run, with the connection it passes.
class SessionLock {
 public:
  // True when the session's current connection holds the lock (taking it now if needed).
  template <class TryTake>
  bool hold(const Session& session, pqxx::connection& conn, TryTake&& try_take) {
    if (generation_ != session.generation()) {
      generation_ = try_take(conn) ? session.generation() : 0;
      taken_now_ = generation_ != 0;
    } else {
      taken_now_ = false;
    }
    return generation_ != 0;
  }
  // The last hold() took the lock (for a log line).
  bool taken_now() const { return taken_now_; }

 private:
  uint64_t generation_ = 0;  // the connection that holds the lock; 0: none
  bool taken_now_ = false;
};

}  // namespace wallet::persistence
