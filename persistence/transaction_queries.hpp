// Queries of the ledger (SPEC.md section 8, "Metadata, queries, balances in the past"):
// transactions found by account, reference, metadata and time; one account's rows, paged; an
// account's balance at an instant. Reads of committed state, each call in one snapshot, every
// statement served by an index (checked on 10 million rows by scripts/explain-queries and on every
// test run by test/integration/persistence/transaction_queries_plan_test.cpp). Each call throws
// libpqxx exceptions (DbPool classifies them); run them on a DbPool thread.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "persistence/transaction_query_types.hpp"
#include "persistence/transaction_store.hpp"

namespace wallet::persistence {

// GET /transactions (transaction_query_types.hpp: the filters, the two orders and the cursor).
TransactionPage find_transactions(pqxx::connection& conn, const TransactionQuery& query);
// GET /accounts/{id}/transactions; nullopt: no such account.
std::optional<AccountRowsPage> account_rows(pqxx::connection& conn, const AccountRowsQuery& query);
// GET /accounts/{id}/balance; nullopt: no such account.
std::optional<BalanceAt> balance_at(pqxx::connection& conn, const std::string& account_id,
                                    std::optional<int64_t> at_us);

// An instant as RFC 3339 UTC text with microseconds ("2030-01-01T00:00:00.000000Z"), as the
// statements take it.
std::string format_instant_us(int64_t at_us);

// The statements of this file by name, for the plan checks (each is run with its parameters as
// above); scripts/explain-queries reads the same texts from the source.
struct QueryStatement {
  std::string name;
  std::string sql;
};
const std::vector<QueryStatement>& query_statements();

}  // namespace wallet::persistence
