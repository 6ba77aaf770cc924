// The relay's side of ledger_outbox (schema/transaction_service/002_ledger_events.sql): reading
// pending rows in outbox order, deleting the ones Kafka acknowledged, counting what is left, and
// the lock that names the one relay publishing a schema's outbox. Free functions over one
// connection; libpqxx exceptions propagate to the Session that runs them (the relay reaches them
// through actors::LedgerEventOutbox, never directly).
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <vector>

#include "domain/ledger_outbox_row.hpp"

namespace wallet::persistence {

// Rows and the query result their text lives in (moving the batch keeps the views valid).
struct LedgerOutboxBatch {
  pqxx::result result;
  std::vector<domain::LedgerOutboxRow> rows;
};

// Up to `limit` rows in id order (the order they must be published in).
LedgerOutboxBatch pending_ledger_events(pqxx::connection& conn, int limit);
void delete_ledger_events(pqxx::connection& conn, const std::vector<int64_t>& ids);
// Rows left, counted up to `cap` (a backlog is reported as "at least cap", never scanned whole).
int64_t count_ledger_events(pqxx::connection& conn, int64_t cap);

// Session-level advisory lock: only its holder publishes this schema's ledger events, so that
// several instances never interleave one account's events. Released when the session ends.
bool try_lead_ledger_events(pqxx::connection& conn);

// Adds the holds triggers when the holds table exists and lacks them (ledger_events_attach_holds,
// schema/transaction_service/functions/ledger_events.sql); true when they are in place. Safe to
// call from several instances at once.
bool attach_hold_events(pqxx::connection& conn);

}  // namespace wallet::persistence
