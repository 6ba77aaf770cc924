// The ledger invariants of SPEC.md section 5, checked in Postgres for a set of accounts: no
// negative balance; balance = sum(balance_change); a gap-free old -> new chain per account in
// commit order; every transfer is one debit and one credit netting to zero; and money conserved
// (balances add up to the deposits minus the withdrawals); release 2: pending holds within the
// balance, and every captured hold has exactly its transfer's two rows. Returns one line per
// violation, empty when all hold.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace wallet::test {

std::vector<std::string> ledger_violations(pqxx::connection& conn,
                                           const std::vector<std::string>& user_ids);

// Creates funded-nothing accounts directly in transaction_service.users (balance 0).
std::vector<std::string> create_accounts(pqxx::connection& conn, int count);

// Helpers for assertions.
std::string db_balance(pqxx::connection& conn, const std::string& user_id);
long count_rows(pqxx::connection& conn, const std::string& sql,
                const std::vector<std::string>& ids);

// A Postgres array literal of uuids, for `= ANY($1::uuid[])`.
std::string uuid_array(const std::vector<std::string>& ids);

}  // namespace wallet::test
