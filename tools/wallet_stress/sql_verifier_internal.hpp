// Private to the SQL verifier's files (sql_verifier.cpp, sql_account_checks.cpp): the shape of a
// check and the accounts checks (--currencies) verify_in_database runs. Nothing else includes it.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tools/wallet_stress/sql_verifier.hpp"

namespace wallet::stress::sql_checks {

struct Check {
  const char* name;
  // $1 is the uuid[] of the run's accounts; every row returned is a violation. `sql` runs while
  // transfers_in_transit does not exist (before migration 007), `in_transit_sql` (when not null)
  // once it does.
  const char* sql;
  const char* in_transit_sql = nullptr;
  // Run by verify_whole_ledger too ($1 every account of the database). The checks left out read
  // `users` (the default accounts): the accounts checks cover every account instead.
  bool whole_ledger = false;
};

// Runs one check's `sql` with $1 = `ids`: every row returned is a violation, written as its
// fields joined by spaces (NULL for a null).
InvariantResult run_check(pqxx::work& txn, const char* name, const std::string& sql,
                          const std::string& ids);

// The accounts checks (sql_account_checks.cpp), for verify_whole_ledger.
std::vector<Check> account_checks();

// The uuid[] literal of these ids.
std::string uuid_array(const std::vector<std::string>& ids);

// Runs the accounts checks inside the checks' transaction (sql_account_checks.cpp).
void check_currency_accounts(pqxx::work& txn, const std::string& all_ids,
                             const CurrencyAccountsInput& in,
                             std::vector<InvariantResult>& results);

}  // namespace wallet::stress::sql_checks
