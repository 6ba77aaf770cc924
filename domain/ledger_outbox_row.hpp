// One row of transaction-service's ledger_outbox (schema/transaction_service/002_ledger_events.sql)
// as the ledger-events relay reads it: plain views, no I/O. persistence/ fills it, the facade in
// actors/ hands it over, messaging/ledger_event encodes it.
#pragma once

#include <cstdint>
#include <string_view>

namespace wallet::domain {

// One ledger_outbox row as the relay reads it: text as Postgres renders it (money is written with
// its currency's exponent; times are RFC 3339 UTC). Empty text stands for SQL NULL. Views into the
// query result that holds the text (see actors::LedgerEventPass): no copy per field.
struct LedgerOutboxRow {
  int64_t id = 0;  // its outbox entry (rows of one ledger statement share one): commit order
  std::string_view event_id;
  std::string_view user_id;     // the Kafka key: the account's user
  std::string_view account_id;  // the account the row or hold is of (the payer's, for a hold)
  std::string_view currency;    // its currency (empty for rows written before release 3)
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
  // a transaction of POST /transactions (kind "transaction"): its document, a JSON object of
  // postings, metadata, reference and reverses
  std::string_view body;
  // a row of a transaction of POST /transactions: that transaction's id (empty otherwise)
  std::string_view posting_of;

  bool is_hold() const { return !hold_id.empty(); }
  bool is_transaction() const { return kind == "transaction"; }
};

}  // namespace wallet::domain
