// The `ledger-events` wire contract (SPEC.md section 3), in one place: the value of each event as
// transaction-service publishes it, encoded from the columns of one ledger_outbox row
// (schema/transaction_service/002_ledger_events.sql). Consumers deduplicate by event_id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wallet::messaging {

// One ledger_outbox row as the relay reads it: text as Postgres renders it (money is numeric(20,2),
// so always two decimals; times are RFC 3339 UTC). Empty text stands for SQL NULL. Views into the
// query result that holds the text (see LedgerOutboxBatch): no copy per field.
struct LedgerOutboxRow {
  int64_t id = 0;  // outbox order: each account's commit order
  std::string_view event_id;
  std::string_view user_id;  // the Kafka key
  // a ledger row (transaction_id not empty)
  std::string_view transaction_id;
  std::string_view kind;
  std::string_view balance_change;
  std::string_view old_balance;
  std::string_view new_balance;
  std::string_view transfer_id;
  // a hold status change (hold_id not empty)
  std::string_view hold_id;
  std::string_view status;
  std::string_view amount;
  std::string_view to_user_id;
  std::string_view expires_at;
  std::string_view created_at;

  bool is_hold() const { return !hold_id.empty(); }
};

// A ledger row:
//   {"event_id", "transaction_id", "user_id", "kind", "balance_change", "old_balance",
//    "new_balance", "transfer_id" (null for deposits and withdrawals), "created_at"}
// A hold status change (user_id is the payer):
//   {"event_id", "hold_id", "user_id", "status", "amount", "to_user_id", "expires_at",
//    "transfer_id" (null until captured), "created_at" (when the change was made)}
// Money as strings with exactly two decimals, as everywhere in the API.
std::string encode_ledger_event(const LedgerOutboxRow& row);
// The same into `out` (cleared first), so that one buffer serves a whole batch.
void encode_ledger_event(const LedgerOutboxRow& row, std::string& out);

}  // namespace wallet::messaging
