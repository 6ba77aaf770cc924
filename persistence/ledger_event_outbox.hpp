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

// The events of the first outbox entries, whole, in the order they must be published in: up to
// `limit` events, or the first entry's however many (an entry of one ledger statement holds all
// its rows, migration 014). Each row's `id` is its entry's: rows of one statement share it.
LedgerOutboxBatch pending_ledger_events(pqxx::connection& conn, int limit);
// Deletes whole entries: every event of each must have been delivered.
void delete_ledger_events(pqxx::connection& conn, const std::vector<int64_t>& ids);
// Events left in the first `cap` entries (a backlog is reported as "at least", never scanned
// whole).
int64_t count_ledger_events(pqxx::connection& conn, int64_t cap);

// Session-level advisory lock: only its holder publishes this schema's ledger events, so that
// several instances never interleave one account's events. Released when the session ends.
bool try_lead_ledger_events(pqxx::connection& conn);

// Adds the holds triggers when the holds table exists and lacks them (ledger_events_attach_holds,
// schema/transaction_service/functions/ledger_events.sql); true when they are in place. Safe to
// call from several instances at once.
bool attach_hold_events(pqxx::connection& conn);

}  // namespace wallet::persistence
