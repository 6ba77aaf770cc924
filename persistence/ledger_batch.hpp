// Private to persistence/: a batch of LedgerMutations as the arguments of the commit functions
// LedgerStore::apply calls (ledger_commit_rows' typed columns, ledger_commit_batch's document).
#pragma once

#include <string>
#include <vector>

#include "persistence/connection.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::persistence {

// A batch that only moves balances (no hold created or closed, nothing in transit, no reversal,
// no decision across owners; transactions of POST /transactions are fine) goes as typed columns to
// ledger_commit_rows (functions/ledger_commit_rows.sql); any other as one jsonb document to
// ledger_commit_batch.
bool moves_balances_only(const std::vector<const LedgerMutation*>& batch);

// The 25 parameters of ledger_commit_rows, in its order.
struct BatchColumns {
  std::string fence_instance;
  ArrayLiteral fence_partitions, fence_epochs;
  ArrayLiteral account_ids, old_balances, new_balances;
  ArrayLiteral entry_ids, entry_users, entry_changes, entry_old, entry_new, entry_kinds,
      entry_transfers;
  ArrayLiteral outcome_endpoints, outcome_keys, outcome_hashes, outcome_statuses, outcome_bodies;
  ArrayLiteral entry_transactions, entry_postings;
  ArrayLiteral transaction_ids, transaction_postings, transaction_metadata, transaction_references,
      transaction_times;
};

BatchColumns batch_columns(const std::vector<const LedgerMutation*>& batch,
                           const OwnershipClaim* claim);

// Builds the jsonb argument of ledger_commit_batch: as batch_columns, plus holds, hold changes
// and the legs of cross-owner transfers.
std::string batch_document(const std::vector<const LedgerMutation*>& batch,
                           const OwnershipClaim* claim);

}  // namespace wallet::persistence
