// Idempotency outcomes: finding the stored outcomes of many keys at once, and purging expired ones.
#include <algorithm>

#include "persistence/connection.hpp"
#include "persistence/ledger_store.hpp"

namespace wallet::persistence {

std::vector<IdempotencyOutcome> find_outcomes(
    pqxx::connection& conn, const std::vector<std::pair<std::string, std::string>>& keys,
    std::chrono::seconds ttl) {
  ArrayLiteral endpoints, names;
  for (const auto& [endpoint, key] : keys) {
    endpoints.quoted(endpoint);
    names.quoted(key);
  }
  // Prepared once per connection and planned once (generic plans, see SessionOptions): one probe
  // of the primary key per wanted key (LIMIT 1 keeps each probe a lookup of its own, whatever the
  // table's statistics say), and whether the outcome is within its retention.
  conn.prepare("wallet_find_outcomes",
               "SELECT o.endpoint, o.key, o.request_hash, o.status_code, o.response_body, o.live,"
               "       o.age_ms"
               "  FROM unnest($1::text[], $2::text[]) AS w(endpoint, key)"
               "  CROSS JOIN LATERAL ("
               "    SELECT i.endpoint, i.key, i.request_hash, i.status_code, i.response_body,"
               "           i.created_at > now() - make_interval(secs => $3) AS live,"
               "           (extract(epoch FROM now() - i.created_at) * 1000)::bigint AS age_ms"
               "      FROM idempotency_keys i WHERE i.endpoint = w.endpoint AND i.key = w.key"
               "     LIMIT 1) o");
  // A key reused after its retention is a new operation: its expired outcome is deleted now, so
  // that the new outcome's insert does not collide with it before the background purge reaches
  // it (the condition on created_at again: only if it is still the expired one).
  conn.prepare("wallet_forget_expired_outcome",
               "DELETE FROM idempotency_keys WHERE endpoint = $1 AND key = $2"
               " AND created_at <= now() - make_interval(secs => $3)");
  const auto seconds = static_cast<int64_t>(ttl.count());
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec_prepared("wallet_find_outcomes", endpoints.text(), names.text(), seconds);
  std::vector<IdempotencyOutcome> found;
  found.reserve(rows.size());
  for (const auto& row : rows) {
    if (!row[5].as<bool>()) {
      txn.exec_prepared("wallet_forget_expired_outcome", row[0].c_str(), row[1].c_str(), seconds);
      continue;
    }
    found.push_back(IdempotencyOutcome{
        row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
        row[3].as<int>(), row[4].as<std::string>(), std::max<int64_t>(0, row[6].as<int64_t>())});
  }
  return found;
}

size_t purge_expired_outcomes(pqxx::connection& conn, std::chrono::seconds ttl, int limit) {
  // Small batches through the created_at index: short transactions that never hold up the
  // writer's inserts for long.
  pqxx::nontransaction txn(conn);
  auto result = txn.exec_params(
      "DELETE FROM idempotency_keys WHERE ctid IN ("
      " SELECT ctid FROM idempotency_keys"
      "  WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2)",
      static_cast<int64_t>(ttl.count()), limit);
  return static_cast<size_t>(result.affected_rows());
}

}  // namespace wallet::persistence
