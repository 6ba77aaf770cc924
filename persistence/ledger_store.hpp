// Ledger persistence of transaction-service: accounts, ledger rows and idempotency outcomes.
// Reads are free functions over a connection (run them on a DbPool thread); writes go through
// LedgerStore::apply, the single-statement group commit used by the LedgerWriter.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace wallet::persistence {

enum class EntryKind { deposit, transfer_debit, transfer_credit, withdrawal };
const char* entry_kind_name(EntryKind kind);

// One row of `transactions`: a balance change of one account, with the balances around it.
struct LedgerEntry {
  std::string id;
  std::string user_id;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
  EntryKind kind = EntryKind::deposit;
  std::string transfer_id;  // empty for deposits
};

// The stored answer to an idempotent request, replayed verbatim for later duplicates.
struct IdempotencyOutcome {
  std::string endpoint;
  std::string key;
  std::string request_hash;
  int status = 0;
  std::string body;
};

// A row of `holds` (release 2): money of from_user_id reserved for to_user_id until expires_at.
struct HoldRecord {
  std::string hold_id;
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  int64_t expires_at_ms = 0;       // Unix epoch milliseconds
  std::string status = "pending";  // pending, captured, voided, expired
  std::string transfer_id;         // set once captured
  int64_t captured_amount = 0;     // set once captured
  std::string created_at;          // RFC 3339, UTC (reads only)
};

// Closing a pending hold; applied only if the hold is still pending (else the batch fails).
struct HoldChange {
  std::string hold_id;
  std::string status;           // captured, voided or expired
  std::string transfer_id;      // captured only
  int64_t captured_amount = 0;  // captured only
};

// What one client operation writes: its ledger rows (none for a stored business rejection) and
// its idempotency outcome, if it carried a key. Entries of one account are in actor order.
// Release 2: the holds it creates and the holds it closes, in the same commit as its rows.
struct LedgerMutation {
  std::vector<LedgerEntry> entries;
  std::optional<IdempotencyOutcome> outcome;
  std::vector<HoldRecord> new_holds;
  std::vector<HoldChange> hold_changes;
};

enum class ApplyStatus {
  committed,    // durable
  rejected,     // refused by a constraint or a stale balance: nothing written
  unavailable,  // connection lost or outcome unknown: nothing is known to be written
};

// Owns one connection; not thread-safe (the LedgerWriter is its only user).
class LedgerStore {
 public:
  explicit LedgerStore(std::string url);

  // Writes all mutations in one transaction. Either all are committed or none is.
  ApplyStatus apply(const std::vector<const LedgerMutation*>& batch);

 private:
  const std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
};

// Reads, each throwing libpqxx exceptions (DbPool classifies them).
std::optional<int64_t> load_balance(pqxx::connection& conn, const std::string& user_id);
// The stored outcomes among many (endpoint, key) pairs, in one query.
std::vector<IdempotencyOutcome> find_outcomes(
    pqxx::connection& conn, const std::vector<std::pair<std::string, std::string>>& keys);

struct HistoryRow {
  std::string id;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
  std::string kind;
  std::string transfer_id;
  std::string created_at;  // RFC 3339, UTC
};

// Epoch milliseconds as RFC 3339 UTC text with milliseconds ("2030-01-01T00:00:00.000Z").
std::string format_epoch_ms(int64_t ms);

// Release 2 reads.
// An account as its actor loads it: the balance and its pending holds as payer, read in one
// snapshot; nullopt when the account does not exist.
struct AccountRecord {
  int64_t balance = 0;
  std::vector<HoldRecord> pending_holds;
};
std::optional<AccountRecord> load_account(pqxx::connection& conn, const std::string& user_id);

std::optional<HoldRecord> load_hold(pqxx::connection& conn, const std::string& hold_id);

// Pending holds whose expires_at has passed (at most `limit`), and how many holds are pending.
struct ExpirySweep {
  std::vector<HoldRecord> overdue;
  int64_t pending = 0;
};
ExpirySweep sweep_overdue_holds(pqxx::connection& conn, int limit);

// One page of history, newest first: rows with seq < before (all when before is 0), at most
// `limit`; next_before is the seq to continue from, 0 on the last page.
struct HistoryPage {
  std::vector<HistoryRow> rows;
  int64_t next_before = 0;
};
std::optional<HistoryPage> load_history_page(pqxx::connection& conn, const std::string& user_id,
                                             int limit, int64_t before);

// Creates an account with balance 0 if it does not exist; true when this call created it.
bool open_account(pqxx::connection& conn, const std::string& user_id, const std::string& created_at);

}  // namespace wallet::persistence
