#include "persistence/ledger_event_outbox.hpp"

#include <string>
#include <string_view>

#include "persistence/connection.hpp"

namespace wallet::persistence {
namespace {

// The first entries in id order, whole, up to $1 events (at least the first entry, however many
// rows it names), from both tables: ledger_outbox (a hold or transaction event, or a ledger row
// copied before migration 014) and ledger_outbox_statements (one ledger statement's rows, read
// from the ledger in its seq order, each with its row's id as event_id: the same at every
// delivery, unique like the row). One sequence numbers both, so their ids are one order.
constexpr const char* kPendingSql = R"sql(
WITH entries AS (
  (SELECT id, NULL::uuid[] AS row_ids, event_id, user_id, transaction_id, kind, balance_change,
          old_balance, new_balance, transfer_id, hold_id, status, amount, to_user_id, expires_at,
          created_at, account_id, currency, body, posting_of
     FROM ledger_outbox ORDER BY id LIMIT $1)
  UNION ALL
  (SELECT id, row_ids, NULL::uuid, NULL::uuid, NULL::uuid, NULL::text, NULL::numeric,
          NULL::numeric, NULL::numeric, NULL::uuid, NULL::uuid, NULL::text, NULL::numeric,
          NULL::uuid, NULL::timestamptz, created_at, NULL::uuid, NULL::text, NULL::jsonb,
          NULL::uuid
     FROM ledger_outbox_statements ORDER BY id LIMIT $1)),
head AS (
  SELECT e.*, sum(coalesce(cardinality(e.row_ids), 1)) OVER (ORDER BY e.id) AS upto
    FROM (SELECT * FROM entries ORDER BY id LIMIT $1) e),
taken AS (SELECT * FROM head WHERE upto <= $1 OR id = (SELECT min(id) FROM head))
SELECT k.id, coalesce(t.id, k.event_id)::text,
       coalesce(t.user_id, k.user_id)::text, coalesce(t.id, k.transaction_id)::text,
       coalesce(t.kind, k.kind, ''), coalesce(t.balance_change, k.balance_change)::text,
       coalesce(t.old_balance, k.old_balance)::text, coalesce(t.new_balance, k.new_balance)::text,
       coalesce(t.transfer_id, k.transfer_id)::text, k.hold_id::text, k.status, k.amount::text,
       k.to_user_id::text,
       to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(coalesce(t.created_at, k.created_at) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       coalesce(t.account_id, k.account_id, k.user_id)::text, coalesce(t.currency, k.currency),
       k.body::text, coalesce(t.transaction_id, k.posting_of)::text
  FROM taken k
  LEFT JOIN LATERAL unnest(k.row_ids) WITH ORDINALITY AS r(row_id, ord) ON true
  -- One primary-key lookup per row (LIMIT keeps the planner from joining the whole ledger).
  LEFT JOIN LATERAL (SELECT * FROM transactions x WHERE x.id = r.row_id LIMIT 1) t ON true
 WHERE k.row_ids IS NULL OR t.id IS NOT NULL
 ORDER BY k.id, r.ord
)sql";

}  // namespace

LedgerOutboxBatch pending_ledger_events(pqxx::connection& conn, int limit) {
  LedgerOutboxBatch batch;
  {
    // One statement: prepared once per connection, run on its own (no BEGIN/COMMIT round trips).
    conn.prepare("wallet_pending_ledger_events", kPendingSql);
    pqxx::nontransaction txn(conn);
    batch.result = txn.exec_prepared("wallet_pending_ledger_events", limit);
  }
  // SQL NULL reads as empty text (f.c_str() is "" and f.size() 0 for a null field).
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
               "WITH copied AS (DELETE FROM ledger_outbox WHERE id = ANY($1::bigint[]))"
               " DELETE FROM ledger_outbox_statements WHERE id = ANY($1::bigint[])");
  pqxx::nontransaction txn(conn);  // one statement, atomic on its own
  txn.exec_prepared("wallet_delete_ledger_events", bigint_array_literal(ids));
}

int64_t count_ledger_events(pqxx::connection& conn, int64_t cap) {
  pqxx::read_transaction txn(conn);
  return txn
      .exec_params(
          // In id order: both go by their primary key (the relay's session prices sequential
          // scans out, and such a plan was 95 ms with JIT, 0.1 ms by the index).
          "SELECT (SELECT count(*) FROM (SELECT 1 FROM ledger_outbox ORDER BY id LIMIT $1)"
          "         AS copied)"
          " + (SELECT coalesce(sum(cardinality(row_ids)), 0) FROM"
          "     (SELECT row_ids FROM ledger_outbox_statements ORDER BY id LIMIT $1) AS statements)",
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
