// Pieces the SQL verifiers share (sql_shared.cpp and sql_account_checks.cpp define them): the
// private temporary copies that a negative control plants its defects in, the wait for money in
// transit, and the per-account ledger checks of the accounts checks, which --postings runs over its
// accounts too.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace wallet::stress {

// A real table's schema-qualified name (it may live in any schema of the search path); read before
// a temporary copy shadows it.
std::string qualified_table(pqxx::work& txn, const char* table);
// Whether a private temporary copy of `table` shadows it in this session already.
bool has_temp_copy(pqxx::work& txn, const char* table);

bool has_in_transit_table(pqxx::connection& conn);
// Waits (up to `seconds`) until no transfer of the accounts `ids` (a uuid[] literal) is in
// transit; returns how many still are.
long wait_for_in_transit(pqxx::connection& conn, const std::string& ids, double seconds);

// A check whose every row is a violation; $1 is the uuid[] of the accounts checked.
struct AccountLedgerCheck {
  const char* name;
  const char* sql;
};
// "balance = sum(balance_change) of its rows, per account" and "rows chained per account" of the
// accounts checks (--currencies), by their names there.
std::vector<AccountLedgerCheck> account_ledger_checks();

}  // namespace wallet::stress
