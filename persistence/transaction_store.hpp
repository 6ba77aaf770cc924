// Transactions as clients read them (SPEC.md section 8): GET /transactions/{id} for a transaction
// of POST /transactions (ledger_transactions, migration 011) and for every operation of the
// single-operation endpoints, which is a transaction of one posting read from its rows (a deposit
// from @world, a withdrawal to @world, a transfer or capture between its two accounts, its credit
// perhaps still in transit). Reads of committed state; each call throws libpqxx exceptions
// (DbPool classifies them); run them on a DbPool thread.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "persistence/transaction_views.hpp"

namespace wallet::persistence {

std::optional<TransactionView> find_transaction(pqxx::connection& conn,
                                                const std::string& transaction_id);

// GET /admin/totals, in one snapshot (CurrencyTotals says what each figure is).
std::vector<CurrencyTotals> ledger_totals(pqxx::connection& conn, bool verify);

}  // namespace wallet::persistence
