#include "messaging/ledger_outbox.hpp"

#include <string>

namespace wallet::messaging {
namespace {

constexpr const char* kPendingSql =
    "SELECT id, event_id::text, user_id::text, coalesce(transaction_id::text, ''),"
    " coalesce(kind, ''), coalesce(balance_change::text, ''), coalesce(old_balance::text, ''),"
    " coalesce(new_balance::text, ''), coalesce(transfer_id::text, ''),"
    " coalesce(hold_id::text, ''), coalesce(status, ''), coalesce(amount::text, ''),"
    " coalesce(to_user_id::text, ''),"
    " coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''),"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    " FROM ledger_outbox ORDER BY id LIMIT $1";

std::string bigint_array(const std::vector<int64_t>& ids) {
  std::string text = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) text += ',';
    text += std::to_string(ids[i]);
  }
  return text + "}";
}

}  // namespace

std::vector<LedgerOutboxRow> pending_ledger_events(pqxx::connection& conn, int limit) {
  pqxx::read_transaction txn(conn);
  auto result = txn.exec_params(kPendingSql, limit);
  std::vector<LedgerOutboxRow> rows;
  rows.reserve(result.size());
  for (const auto& r : result) {
    LedgerOutboxRow row;
    row.id = r[0].as<int64_t>();
    row.event_id = r[1].c_str();
    row.user_id = r[2].c_str();
    row.transaction_id = r[3].c_str();
    row.kind = r[4].c_str();
    row.balance_change = r[5].c_str();
    row.old_balance = r[6].c_str();
    row.new_balance = r[7].c_str();
    row.transfer_id = r[8].c_str();
    row.hold_id = r[9].c_str();
    row.status = r[10].c_str();
    row.amount = r[11].c_str();
    row.to_user_id = r[12].c_str();
    row.expires_at = r[13].c_str();
    row.created_at = r[14].c_str();
    rows.push_back(std::move(row));
  }
  return rows;
}

void delete_ledger_events(pqxx::connection& conn, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  pqxx::work txn(conn);
  txn.exec_params("DELETE FROM ledger_outbox WHERE id = ANY($1::bigint[])", bigint_array(ids));
  txn.commit();
}

int64_t count_ledger_events(pqxx::connection& conn, int64_t cap) {
  pqxx::read_transaction txn(conn);
  return txn
      .exec_params("SELECT count(*) FROM (SELECT 1 FROM ledger_outbox LIMIT $1) AS left_over",
                   cap)[0][0]
      .as<int64_t>();
}

bool try_lead_ledger_events(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return txn
      .exec(
          "SELECT pg_try_advisory_lock(hashtext('wallet.ledger_events_relay.' ||"
          " current_schema()))")[0][0]
      .as<bool>();
}

bool attach_hold_events(pqxx::connection& conn) {
  pqxx::work txn(conn);
  const bool attached = txn.exec("SELECT ledger_events_attach_holds()")[0][0].as<bool>();
  txn.commit();
  return attached;
}

}  // namespace wallet::messaging
