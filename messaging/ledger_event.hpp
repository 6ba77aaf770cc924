// The `ledger-events` wire contract (SPEC.md section 3), in one place: the value of each event as
// transaction-service publishes it, encoded from the columns of one ledger_outbox row
// (schema/transaction_service/002_ledger_events.sql). Consumers deduplicate by event_id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/ledger_outbox_row.hpp"

namespace wallet::messaging {

// The row the encoder reads (domain/ledger_outbox_row.hpp).
using domain::LedgerOutboxRow;

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
