#include "persistence/session.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <pqxx/pqxx>
#include <vector>

namespace wallet::persistence {
namespace {

bool has_setting(const std::string& url, const std::string& key) {
  return url.find(key + "=") != std::string::npos;
}

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string session_url(const std::string& url, const SessionOptions& options) {
  const bool uri = url.find("://") != std::string::npos;
  std::string out = url;
  auto add = [&](const std::string& key, const std::string& value) {
    if (has_setting(url, key)) return;
    if (uri) {
      out += (out.find('?') == std::string::npos) ? '?' : '&';
    } else if (!out.empty()) {
      out += ' ';
    }
    out += key + "=" + value;
  };
  add("connect_timeout", std::to_string(options.connect_timeout.count()));
  if (options.keepalives_idle_s > 0) {
    add("keepalives", "1");
    add("keepalives_idle", std::to_string(options.keepalives_idle_s));
    add("keepalives_interval", std::to_string(options.keepalives_interval_s));
    add("keepalives_count", std::to_string(options.keepalives_count));
  }
  if (options.tcp_user_timeout_ms > 0) {
    add("tcp_user_timeout", std::to_string(options.tcp_user_timeout_ms));
  }
  // libpq `options`: command-line options for the server process, URI-encoded in a URI.
  std::vector<std::pair<std::string, std::string>> settings;
  if (options.statement_timeout.count() > 0) {
    settings.emplace_back("statement_timeout", std::to_string(options.statement_timeout.count()));
  }
  if (options.generic_plans) settings.emplace_back("plan_cache_mode", "force_generic_plan");
  // No JIT: every statement of the services is short, and a plan costed high (a generic plan's
  // guesses, a scan priced out by enable_seqscan = off) would otherwise be compiled at each run:
  // the relay's count of pending events cost 76 ms of LLVM per call, once a second (issue 28).
  settings.emplace_back("jit", "off");
  if (options.queue_plans) {
    settings.emplace_back("enable_seqscan", "off");
    settings.emplace_back("enable_memoize", "off");
  }
  std::string server;
  for (const auto& [name, value] : settings) {
    if (!server.empty()) server += uri ? "%20" : " ";
    server += uri ? "-c%20" + name + "%3D" + value : "-c " + name + "=" + value;
  }
  if (!server.empty()) add("options", uri ? server : "'" + server + "'");
  return out;
}

domain::Error DbFailure::error() const {
  if (retryable()) {
    return {domain::ErrorCode::unavailable,
            message.empty() ? "the database is unavailable, retry later" : message};
  }
  return {domain::ErrorCode::internal, message.empty() ? "internal error" : message};
}

domain::Error DbFailure::log(std::string_view operation) const {
  if (retryable()) {
    spdlog::warn("event=db_unavailable op={} sqlstate={} cause=\"{}\"", operation, sqlstate, cause);
  } else {
    spdlog::error("event=db_error op={} sqlstate={} cause=\"{}\"", operation, sqlstate, cause);
  }
  return error();
}

DbFailure classify(const std::exception& error) {
  DbFailure failure;
  failure.cause = error.what();
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    failure.kind = FailureKind::connection;
    return failure;
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr) return failure;  // internal
  failure.sqlstate = sql->sqlstate();
  const std::string& state = failure.sqlstate;
  if (state == "25006" ||          // read_only_sql_transaction: a demoted primary (failover)
      starts_with(state, "08") ||  // connection_exception
      state == "57P01" || state == "57P02" || state == "57P03") {  // shutdown, cannot connect now
    failure.kind = FailureKind::connection;
  } else if (state == "40001" || state == "40P01" ||  // serialization failure, deadlock
             state == "57014" ||                      // query_canceled (statement_timeout)
             starts_with(state, "53")) {              // insufficient resources
    failure.kind = FailureKind::transient;
  } else if (starts_with(state, "22")) {
    failure.kind = FailureKind::invalid_data;
  }
  return failure;
}

namespace {
std::atomic<uint64_t> lost_connections{0};
}  // namespace

uint64_t connections_lost() { return lost_connections.load(std::memory_order_relaxed); }

Session::Session(std::string url, SessionOptions options) : url_(session_url(url, options)) {}

Session::~Session() = default;

bool Session::connected() const { return conn_ && conn_->is_open(); }

void Session::close() { conn_.reset(); }

std::unique_ptr<DbFailure> Session::attempt(const std::function<void(pqxx::connection&)>& work) {
  try {
    if (!connected()) {
      conn_.reset();
      auto fresh = std::make_unique<pqxx::connection>(url_);
      if (setup_) setup_(*fresh);
      conn_ = std::move(fresh);
      ++generation_;
    }
    work(*conn_);
    return nullptr;
  } catch (const std::exception& e) {
    auto failure = std::make_unique<DbFailure>(classify(e));
    if (failure->kind == FailureKind::connection || !connected()) {
      if (conn_) lost_connections.fetch_add(1, std::memory_order_relaxed);  // was open: lost
      conn_.reset();
    }
    return failure;
  }
}

bool Session::ping(const std::string& url, const SessionOptions& options) {
  Session session(url, options);
  auto answer = session.run([](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    txn.exec("SELECT 1");
  });
  if (!answer) spdlog::warn("event=db_ping_failed cause=\"{}\"", answer.failure().cause);
  return answer.ok();
}

}  // namespace wallet::persistence
