// The values the ledger writes: rows of `transactions`, idempotency outcomes, and the mutation one
// client operation commits. Plain data, no I/O: shared by the Postgres store and the simulation
// model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wallet::persistence {

// posting_debit/posting_credit: the two rows of a posting between two accounts of a transaction
// of POST /transactions (its postings from or to @world write deposit and withdrawal rows).
enum class EntryKind {
  deposit,
  transfer_debit,
  transfer_credit,
  withdrawal,
  posting_debit,
  posting_credit
};
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
  int exponent = 2;         // of the account's currency: how its amounts are written
  // A row of a transaction of POST /transactions: its id and the posting's index (-1: none).
  std::string transaction_id = {};
  int posting = -1;
};

// A transaction of POST /transactions (or a reversal), as ledger_transactions stores it; its rows
// are the mutation's entries.
struct TransactionRecord {
  std::string transaction_id;
  std::string postings;  // the JSON array the answer shows
  std::string metadata = "{}";
  std::optional<std::string> reference;
  std::string created_at;  // RFC 3339, UTC, decided by the service
  // A reversal: the transaction it reverses, how much of it may be reversed in all and how much
  // this one reverses (amounts of its one posting at `exponent`, or 1 of 1 for a whole
  // transaction of several postings).
  std::string reverses = {};
  int64_t reversible = 0;
  int64_t reversed_now = 0;
  int exponent = 0;
  // Across owners: this commit is the decision `commit` of the transaction (its foreign payers'
  // holds are then captured); refused as a whole when `abort` was recorded first.
  bool decides = false;
};

// The stored answer to an idempotent request, replayed verbatim for later duplicates.
struct IdempotencyOutcome {
  std::string endpoint;
  std::string key;
  std::string request_hash;
  int status = 0;
  std::string body;
  // How old the stored outcome was when it was read (0 for one being written now): its retention
  // counts from when it was stored, not from when a process learned it.
  int64_t age_ms = 0;
};

// A row of `holds`: money of from_user_id reserved for to_user_id until expires_at.
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
  int exponent = 2;                // of the payer's currency
  std::string currency;            // the payer's (reads only)
  std::string from_owner = {};     // the accounts' users (reads only)
  std::string to_owner = {};
  // A hold of a transaction across owners (migration 012): its posting's debit, settled only as
  // the transaction's decision says (captured as the posting, or voided), never by a client or
  // by time (it is placed with kNeverExpiresMs).
  std::string transaction_id = {};
  int posting = -1;
};
// The expiry of a hold of a transaction: never (9999-12-31T23:59:59Z).
inline constexpr int64_t kNeverExpiresMs = 253402300799000;

// What was decided for a transaction across owners (transaction_decisions, migration 012).
enum class TransactionDecision : uint8_t { none, commit, abort };

// Closing a pending hold; applied only if the hold is still pending (else the batch fails).
struct HoldChange {
  std::string hold_id;
  std::string status;           // captured, voided or expired
  std::string transfer_id;      // captured only
  int64_t captured_amount = 0;  // captured only
  int exponent = 2;             // of the payer's currency
};

// A change of an account's rules (PATCH /accounts/{id}), decided by its actor.
struct AccountChange {
  std::string account_id;
  std::optional<std::string> status;  // open, frozen or closed
  std::optional<int64_t> overdraft_limit;
  std::optional<std::string> metadata;  // a JSON object's text
  int exponent = 2;
  // Names the change (a fresh uuid): what a commit in doubt is looked up by (a change of rules
  // writes no row of its own to find).
  std::string change_id = {};
};

// A transfer between accounts of different owners, between its debit and its credit (a row of
// `transfers_in_transit`, schema/transaction_service/007_in_transit.sql).
struct InTransit {
  std::string transfer_id;
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  int to_partition = 0;    // the payee's partition, whose owner applies the credit
  std::string created_at;  // RFC 3339, UTC (reads only)
  int exponent = 2;        // of the accounts' currency
  // A posting of a transaction of POST /transactions (its credit row names them on arrival);
  // empty for a transfer.
  std::string transaction_id = {};
  int posting = -1;
};

// Transfers in transit, ledger-wide: how many and their total, with some of them (the oldest, or
// those due to the partitions asked for).
struct InTransitSummary {
  int64_t count = 0;
  int64_t total = 0;  // of the default currency (money of two currencies is never added)
  // Per currency with money in transit: its code, exponent and total (minor units).
  struct CurrencyTotal {
    std::string code;
    int exponent = 2;
    int64_t total = 0;
  };
  std::vector<CurrencyTotal> by_currency = {};
  int64_t oldest_age_ms = 0;  // age of the oldest row (0 when none): money stuck in transit
  std::vector<InTransit> oldest;
};

// What one client operation writes: its ledger rows (none for a stored business rejection) and
// its idempotency outcome, if it carried a key. Entries of one account are in actor order.
// Holds: the holds it creates and the holds it closes, in the same commit as its rows.
// Beyond one machine: a cross-owner transfer's debit departs (its in-transit row is written with
// the debit row); its credit arrives later in another commit (which deletes that row).
struct LedgerMutation {
  std::vector<LedgerEntry> entries;
  std::optional<IdempotencyOutcome> outcome;
  std::vector<HoldRecord> new_holds;
  std::vector<HoldChange> hold_changes;
  std::vector<InTransit> departures;
  std::vector<InTransit> arrivals;
  std::vector<AccountChange> account_changes;
  std::vector<TransactionRecord> transactions;
};

// The fence of a commit (schema/transaction_service/006_partition_owner.sql): the instance that
// writes it and every partition it holds, with the epoch it took each at. An empty instance_id is
// no fence (refused once any partition has an owner).
struct OwnershipClaim {
  std::string instance_id;
  std::vector<std::pair<int, int64_t>> epochs;  // (partition, epoch)
};

enum class AccountStatus : uint8_t { open, frozen, closed };
inline const char* account_status_name(AccountStatus status) {
  switch (status) {
    case AccountStatus::frozen:
      return "frozen";
    case AccountStatus::closed:
      return "closed";
    case AccountStatus::open:
      break;
  }
  return "open";
}
inline std::optional<AccountStatus> parse_account_status(const std::string& name) {
  if (name == "open") return AccountStatus::open;
  if (name == "frozen") return AccountStatus::frozen;
  if (name == "closed") return AccountStatus::closed;
  return std::nullopt;
}

// An account as loaded by its actor: the committed balance, its rules and its pending holds.
struct AccountRecord {
  int64_t balance = 0;
  std::vector<HoldRecord> pending_holds;
  std::string user_id = {};  // the owner (for a default account, the account's own id)
  std::string currency = {};
  int exponent = 2;
  int64_t overdraft_limit = 0;
  AccountStatus status = AccountStatus::open;
};

// An account as GET /accounts/{id} shows it (read from Postgres, committed state).
struct AccountView {
  std::string account_id;
  std::string user_id;
  std::string currency;
  int exponent = 2;
  int64_t balance = 0;
  int64_t held = 0;  // pending holds not yet past their expiry
  int64_t overdraft_limit = 0;
  std::string status;
  std::string metadata;  // a JSON object's text
  std::string created_at;
};

// What POST /accounts opens.
struct NewAccount {
  std::string account_id;
  std::string user_id;
  std::string currency;
  int exponent = 2;
  int64_t overdraft_limit = 0;
  std::string metadata = "{}";
  std::optional<IdempotencyOutcome> outcome;  // stored in the same transaction
};

}  // namespace wallet::persistence
