#include "persistence/ledger_event_outbox.hpp"

#include <string>
#include <string_view>

#include "persistence/connection.hpp"

namespace wallet::persistence {
namespace {

constexpr const char* kPendingSql =
    "SELECT id, event_id::text, user_id::text, coalesce(transaction_id::text, ''),"
    " coalesce(kind, ''), coalesce(balance_change::text, ''), coalesce(old_balance::text, ''),"
    " coalesce(new_balance::text, ''), coalesce(transfer_id::text, ''),"
    " coalesce(hold_id::text, ''), coalesce(status, ''), coalesce(amount::text, ''),"
    " coalesce(to_user_id::text, ''),"
    " coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''),"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " coalesce(account_id, user_id)::text, coalesce(currency, ''), coalesce(body::text, ''),"
    " coalesce(posting_of::text, '') FROM ledger_outbox ORDER BY id LIMIT $1";

}  // namespace

LedgerOutboxBatch pending_ledger_events(pqxx::connection& conn, int limit) {
  LedgerOutboxBatch batch;
  {
    // One statement: prepared once per connection, run on its own (no BEGIN/COMMIT round trips).
    conn.prepare("wallet_pending_ledger_events", kPendingSql);
    pqxx::nontransaction txn(conn);
    batch.result = txn.exec_prepared("wallet_pending_ledger_events", limit);
  }
  auto text = [](const pqxx::field& f) { return std::string_view(f.c_str(), f.size()); };
  batch.rows.reserve(batch.result.size());
  for (const auto& r : batch.result) {
    domain::LedgerOutboxRow row;
    row.id = r[0].as<int64_t>();
    row.event_id = text(r[1]);
    row.user_id = text(r[2]);
    row.transaction_id = text(r[3]);
    row.kind = text(r[4]);
    row.balance_change = text(r[5]);
    row.old_balance = text(r[6]);
    row.new_balance = text(r[7]);
    row.transfer_id = text(r[8]);
    row.hold_id = text(r[9]);
    row.status = text(r[10]);
    row.amount = text(r[11]);
    row.to_user_id = text(r[12]);
    row.expires_at = text(r[13]);
    row.created_at = text(r[14]);
    row.account_id = text(r[15]);
    row.currency = text(r[16]);
    row.body = text(r[17]);
    row.posting_of = text(r[18]);
    batch.rows.push_back(row);
  }
  return batch;
}

void delete_ledger_events(pqxx::connection& conn, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  conn.prepare("wallet_delete_ledger_events",
               "DELETE FROM ledger_outbox WHERE id = ANY($1::bigint[])");
  pqxx::nontransaction txn(conn);  // one statement, atomic on its own
  txn.exec_prepared("wallet_delete_ledger_events", bigint_array_literal(ids));
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

}  // namespace wallet::persistence
