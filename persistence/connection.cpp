#include "persistence/connection.hpp"

#include <spdlog/spdlog.h>

namespace wallet::persistence {

namespace {

// Adds `name=value` to a libpq URL unless the URL already sets it.
void add_default(std::string& url, const char* name, const char* value) {
  if (url.find(name) != std::string::npos) return;
  url += (url.find('?') == std::string::npos) ? '?' : '&';
  url += name;
  url += '=';
  url += value;
}

}  // namespace

std::unique_ptr<pqxx::connection> connect(const std::string& url) {
  std::string options = url;
  // A dead server or a silent network must surface as an error within seconds, never as a hang:
  // bounded connect, TCP keepalives, and unacknowledged writes give up after 10 s.
  add_default(options, "connect_timeout", "3");
  add_default(options, "keepalives", "1");
  add_default(options, "keepalives_idle", "5");
  add_default(options, "keepalives_interval", "2");
  add_default(options, "keepalives_count", "3");
  add_default(options, "tcp_user_timeout", "10000");
  return std::make_unique<pqxx::connection>(options);
}

bool is_connection_failure(const std::exception& error) {
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    return true;
  }
  // Errors that mean "this server is no longer the primary you want": the connection must be
  // dropped and reopened through the multi-host URL (target_session_attrs=read-write), which finds
  // the new primary after a failover or switchover.
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr) return false;
  const std::string& state = sql->sqlstate();
  return state == "25006" ||                      // read_only_sql_transaction: a demoted primary
         state == "57P01" || state == "57P02" ||  // admin_shutdown, crash_shutdown
         state == "57P03" ||                      // cannot_connect_now (starting, in recovery)
         state.compare(0, 2, "08") == 0;          // connection_exception class
}

bool is_retryable(const std::exception& error) {
  return dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr ||
         dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr;
}

domain::Error database_error(const std::exception& error, std::string_view operation) {
  if (is_connection_failure(error) || is_retryable(error)) {
    spdlog::warn("event=db_unavailable op={} cause=\"{}\"", operation, error.what());
    return {domain::ErrorCode::unavailable, "the database is unavailable, retry later"};
  }
  spdlog::error("event=db_error op={} cause=\"{}\"", operation, error.what());
  return {domain::ErrorCode::internal, "internal error"};
}

}  // namespace wallet::persistence
