// Private to the SQL verifier's files (sql_verifier.cpp, sql_ledger_checks.cpp,
// sql_account_checks.cpp): the shape of a check, the ledger checks and the accounts checks
// (--currencies) verify_in_database and verify_whole_ledger run. Nothing else includes it.
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

// The ledger checks (sql_ledger_checks.cpp), their ledger rows' account column written TXACCT.
std::vector<Check> ledger_checks();
// `sql` with TXACCT replaced by `column`: `account_id` once accounts exist (migration 010; user_id
// is then the account's owner), `user_id` before.
std::string with_account_column(std::string sql, const char* column);
// Whether transactions has the account_id column (migration 010).
bool has_account_column(pqxx::connection& conn);

// The accounts checks (sql_account_checks.cpp), for verify_whole_ledger.
std::vector<Check> account_checks();

// The uuid[] literal of these ids.
std::string uuid_array(const std::vector<std::string>& ids);

// Runs the accounts checks inside the checks' transaction (sql_account_checks.cpp).
void check_currency_accounts(pqxx::work& txn, const std::string& all_ids,
                             const CurrencyAccountsInput& in,
                             std::vector<InvariantResult>& results);

}  // namespace wallet::stress::sql_checks
