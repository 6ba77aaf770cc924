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

enum class EntryKind { deposit, transfer_debit, transfer_credit };
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

// What one client operation writes: its ledger rows (none for a stored business rejection) and
// its idempotency outcome, if it carried a key. Entries of one account are in actor order.
struct LedgerMutation {
  std::vector<LedgerEntry> entries;
  std::optional<IdempotencyOutcome> outcome;
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
// Newest first; nullopt when the account does not exist.
std::optional<std::vector<HistoryRow>> load_history(pqxx::connection& conn,
                                                    const std::string& user_id, int limit);

// Creates an account with balance 0 if it does not exist; true when this call created it.
bool open_account(pqxx::connection& conn, const std::string& user_id, const std::string& created_at);

}  // namespace wallet::persistence
