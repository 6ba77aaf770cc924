#include "persistence/replication.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

namespace wallet::persistence {

void confirm_durable(pqxx::connection& conn) {
  pqxx::work txn(conn);
  // `on` waits for the standby's flush, which is what survives its promotion; a session that
  // turned synchronous_commit off (the ledger events relay) must not skip the wait here.
  txn.exec("SET LOCAL synchronous_commit = on");
  // A row of its own (schema: replication_probe): a transaction that writes no WAL (taking a
  // transaction id is not enough) commits without waiting for the standby.
  txn.exec(
      "INSERT INTO replication_probe (slot, confirmed_at) VALUES (pg_backend_pid() % 64, now())"
      " ON CONFLICT (slot) DO UPDATE SET confirmed_at = excluded.confirmed_at");
  txn.commit();
}

std::string server_identity(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  // The timeline from the WAL file being written (pg_control's checkpoint timeline lags a
  // promotion until its first checkpoint).
  auto row = txn.exec1(
      "SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/' ||"
      " CASE WHEN pg_is_in_recovery() THEN 'standby'"
      " ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END");
  return row[0].as<std::string>();
}

void ServerIdentity::on_change(
    std::function<void(const std::string& before, const std::string& now)> notify) {
  std::lock_guard<std::mutex> lock(mutex_);
  notify_ = std::move(notify);
}

bool ServerIdentity::observe(pqxx::connection& conn) { return observe(server_identity(conn)); }

bool ServerIdentity::observe(const std::string& identity) {
  std::function<void(const std::string&, const std::string&)> notify;
  std::string before;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (identity.empty() || identity == identity_) return false;
    before = identity_;
    identity_ = identity;
    if (before.empty()) return false;
    notify = notify_;
  }
  spdlog::warn("event=database_server_changed before={} now={}", before, identity);
  if (notify) notify(before, identity);
  return true;
}

std::string ServerIdentity::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return identity_;
}

}  // namespace wallet::persistence
