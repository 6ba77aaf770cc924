#include "persistence/user_store.hpp"

#include "persistence/connection.hpp"

namespace wallet::persistence {
namespace {

// Timestamps leave the database as RFC 3339 UTC text, formatted in one place.
#define WALLET_RFC3339(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

std::optional<UserRecord> first_user(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  return UserRecord{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()};
}

}  // namespace

std::optional<UserRecord> create_user(pqxx::connection& conn, const NewUser& user) {
  // Data-modifying CTEs run exactly once and atomically with the outer statement: the outbox row
  // exists if and only if the user row was inserted by this statement.
  pqxx::work txn(conn);
  auto rows = txn.exec_params(
      "WITH inserted AS ("
      "  INSERT INTO users (user_id, email, created_at) VALUES ($1, $2, $3::timestamptz)"
      "  ON CONFLICT (email) DO NOTHING"
      "  RETURNING user_id, email, " WALLET_RFC3339("created_at") " AS created_at"
      "), event AS ("
      "  INSERT INTO outbox (aggregate_id, topic, payload)"
      "  SELECT user_id, $4, $5::jsonb FROM inserted"
      "  RETURNING id"
      ") SELECT user_id::text, email, created_at FROM inserted",
      user.user_id, user.email, user.created_at, user.event_topic, user.event_payload);
  txn.commit();
  return first_user(rows);
}

std::optional<UserRecord> find_user_by_email(pqxx::connection& conn, const std::string& email) {
  pqxx::read_transaction txn(conn);
  return first_user(txn.exec_params(
      "SELECT user_id::text, email, " WALLET_RFC3339("created_at") " FROM users WHERE email = $1",
      email));
}

std::optional<UserRecord> find_user_by_id(pqxx::connection& conn, const std::string& user_id) {
  pqxx::read_transaction txn(conn);
  return first_user(txn.exec_params("SELECT user_id::text, email, " WALLET_RFC3339(
                                        "created_at") " FROM users WHERE user_id = $1::uuid",
                                    user_id));
}

std::vector<OutboxRow> pending_outbox(pqxx::connection& conn, int limit) {
  pqxx::read_transaction txn(conn);
  auto rows = txn.exec_params(
      "SELECT id, aggregate_id::text, topic, payload::text FROM outbox"
      " WHERE sent_at IS NULL ORDER BY id LIMIT $1",
      limit);
  std::vector<OutboxRow> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>()});
  }
  return out;
}

void mark_outbox_sent(pqxx::connection& conn, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  pqxx::work txn(conn);
  txn.exec_params(
      "UPDATE outbox SET sent_at = now(), attempts = attempts + 1"
      " WHERE id = ANY($1::bigint[]) AND sent_at IS NULL",
      bigint_array_literal(ids));
  txn.commit();
}

void count_outbox_attempts(pqxx::connection& conn, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  pqxx::work txn(conn);
  txn.exec_params("UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
                  bigint_array_literal(ids));
  txn.commit();
}

int64_t count_pending_outbox(pqxx::connection& conn) {
  pqxx::read_transaction txn(conn);
  return txn.exec("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0].as<int64_t>();
}

void listen_outbox(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  // The channel of schema/user_service/functions/outbox_notify.sql.
  txn.exec("LISTEN outbox_pending");
}

bool try_lead_outbox(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return txn
      .exec(
          "SELECT pg_try_advisory_lock(hashtext('wallet.outbox_relay.' || current_schema()))")[0][0]
      .as<bool>();
}

#undef WALLET_RFC3339

}  // namespace wallet::persistence
