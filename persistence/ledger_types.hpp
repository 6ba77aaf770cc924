// The values the ledger writes: rows of `transactions`, idempotency outcomes, and the mutation one
// client operation commits. Plain data, no I/O: shared by the Postgres store and the simulation model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace wallet::persistence
