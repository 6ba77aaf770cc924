// The run's checks in SQL (verify_in_database), one InvariantResult ("sql: ...") per query: the
// ledger checks (sql_ledger_checks.cpp) over the run's accounts with their in-transit negative
// control, the stored balances and holds against the driver's expectation, and the accounts checks
// of --currencies (sql_account_checks.cpp).
#include "tools/wallet_stress/sql_verifier.hpp"

#include <cstdio>
#include <pqxx/pqxx>
#include <unordered_map>

#include "domain/money.hpp"
#include "tools/wallet_stress/sql_shared.hpp"
#include "tools/wallet_stress/sql_verifier_internal.hpp"

namespace wallet::stress {

using namespace sql_checks;

namespace {

std::string uuid_array(const std::vector<Account>& accounts) {
  std::string out = "{";
  for (size_t i = 0; i < accounts.size(); ++i) out += (i ? "," : "") + accounts[i].user_id;
  return out + "}";
}

// The negative control of the in-transit checks (--self-check-corrupt-in-transit): inside the
// checks' own transaction, private temporary copies of the run's rows of `transactions` and
// `transfers_in_transit` (an empty one when the table does not exist yet) shadow the real tables
// (pg_temp comes first in the search path), and two defects are planted there: an in-transit row
// for a transfer whose credit already landed, and another settled transfer's credit relabelled as a
// second debit. Nothing real is written; the copies go with the transaction.
std::string plant_in_transit_defects(pqxx::work& txn, const std::string& ids, bool table_exists,
                                     const char* account_column) {
  // The real tables, schema-qualified (they may live in any schema of the search path).
  auto qualified = [&](const char* table) { return qualified_table(txn, table); };
  txn.exec_params("CREATE TEMP TABLE transactions ON COMMIT DROP AS SELECT * FROM " +
                      qualified("transactions") + " WHERE user_id = ANY($1::uuid[])",
                  ids);
  if (table_exists) {
    txn.exec_params("CREATE TEMP TABLE transfers_in_transit ON COMMIT DROP AS SELECT * FROM " +
                        qualified("transfers_in_transit") +
                        " WHERE from_user_id = ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                    ids);
  } else {
    txn.exec(
        "CREATE TEMP TABLE transfers_in_transit (transfer_id uuid, from_user_id uuid,"
        " to_user_id uuid, amount numeric(20,2), to_partition integer, created_at timestamptz)"
        " ON COMMIT DROP");
  }
  const char* const captures = "SELECT transfer_id FROM holds WHERE transfer_id IS NOT NULL";
  const auto in_transit = txn.exec(with_account_column(
      std::string("INSERT INTO transfers_in_transit"
                  " (transfer_id, from_user_id, to_user_id, amount, to_partition, created_at)"
                  " SELECT d.transfer_id, d.TXACCT, c.TXACCT, c.balance_change, 0, now()"
                  "   FROM transactions d JOIN transactions c ON c.transfer_id = d.transfer_id"
                  "    AND c.kind = 'transfer_credit'"
                  "  WHERE d.kind = 'transfer_debit' AND d.transfer_id NOT IN (") +
          captures + ") ORDER BY d.seq LIMIT 1",
      account_column));
  const auto second_debit = txn.exec(
      std::string("UPDATE transactions SET kind = 'transfer_debit' WHERE id = ("
                  " SELECT c.id FROM transactions c WHERE c.kind = 'transfer_credit'"
                  "    AND c.transfer_id NOT IN (SELECT transfer_id FROM transfers_in_transit)"
                  "    AND c.transfer_id NOT IN (") +
      captures + ") ORDER BY c.seq LIMIT 1)");
  if (in_transit.affected_rows() != 1 || second_debit.affected_rows() != 1) {
    return "the run has fewer than two settled transfers to corrupt";
  }
  return "";
}

// The ledger checks over the run's accounts `ids`, in the checks' transaction; the in-transit ones
// in their form without transfers_in_transit when it does not exist.
void run_ledger_checks(pqxx::work& txn, const std::string& ids, bool table_exists,
                       const char* account_column, const std::string& at_rest_note,
                       std::vector<InvariantResult>& results) {
  for (const auto& check : ledger_checks()) {
    const bool with_table = table_exists && check.in_transit_sql;
    InvariantResult result = run_check(
        txn, check.name,
        with_account_column(with_table ? check.in_transit_sql : check.sql, account_column), ids);
    if (check.in_transit_sql && !table_exists) {
      result.note =
          "transfers_in_transit does not exist (before migration 007): checked without it";
    }
    if (std::string(check.name) == "sql: nothing left in transit at rest") {
      result.note = at_rest_note;
    }
    results.push_back(std::move(result));
  }
}

// The default accounts' stored balances and pending holds against the driver's expectation.
void check_stored_balances(pqxx::work& txn, const std::string& ids,
                           const std::vector<Account>& accounts,
                           const std::vector<int64_t>& expected_minor,
                           const std::vector<int64_t>& expected_held_minor,
                           std::vector<InvariantResult>& results) {
  InvariantResult stored("sql: stored balances = the driver's expectation from its 200 answers");
  std::unordered_map<std::string, size_t> index;
  for (size_t a = 0; a < accounts.size(); ++a) index.emplace(accounts[a].user_id, a);
  size_t seen = 0;
  for (const auto& row : txn.exec_params(
           "SELECT user_id::text, balance::text FROM users WHERE user_id = ANY($1::uuid[])", ids)) {
    auto it = index.find(row[0].c_str());
    if (it == index.end()) continue;
    ++seen;
    auto balance = domain::parse_minor_units(row[1].c_str());
    if (!balance || *balance != expected_minor[it->second]) {
      stored.fail(it->first + ": stored " + row[1].c_str() + ", expected " +
                  domain::format_minor_units(expected_minor[it->second]));
    }
  }
  if (seen != accounts.size()) {
    stored.fail(std::to_string(accounts.size() - seen) + " accounts are not in the database");
  }
  results.push_back(std::move(stored));
  // Holds: available = balance - pending holds, with the pending holds the driver expects.
  InvariantResult held("sql: pending holds per new account = the driver's expectation");
  for (const auto& row :
       txn.exec_params("SELECT u.user_id::text, coalesce(sum(h.amount), 0)::text FROM users u"
                       " LEFT JOIN holds h ON h.from_user_id = u.user_id AND h.status = 'pending'"
                       " WHERE u.user_id = ANY($1::uuid[]) GROUP BY u.user_id",
                       ids)) {
    auto it = index.find(row[0].c_str());
    if (it == index.end() || accounts[it->second].reused) continue;
    auto sum = domain::parse_minor_units(row[1].c_str());
    if (!sum || *sum != expected_held_minor[it->second]) {
      held.fail(it->first + ": pending holds " + row[1].c_str() + ", expected " +
                domain::format_minor_units(expected_held_minor[it->second]));
    }
  }
  results.push_back(std::move(held));
}

}  // namespace

std::vector<InvariantResult> verify_in_database(const std::string& database_url,
                                                const std::vector<Account>& accounts,
                                                const std::vector<int64_t>& expected_minor,
                                                const std::vector<int64_t>& expected_held_minor,
                                                const InTransitOptions& in_transit,
                                                const CurrencyAccountsInput& currency_accounts) {
  std::vector<InvariantResult> results;
  try {
    pqxx::connection conn(database_url);
    const std::string ids = uuid_array(accounts);
    // Every account of the run, the default ones first; the rows of an account are
    // named by account_id once accounts exist.
    std::vector<std::string> every_id;
    for (const auto& a : accounts) every_id.push_back(a.user_id);
    if (currency_accounts.extra) {
      for (const auto& a : *currency_accounts.extra) every_id.push_back(a.account_id);
    }
    const std::string all_ids = uuid_array(every_id);
    const char* account_column = has_account_column(conn) ? "account_id" : "user_id";
    if (currency_accounts.extra && std::string(account_column) != "account_id") {
      InvariantResult missing("sql: accounts: the database has the accounts table");
      missing.fail("transactions has no account_id column (before migration 010)");
      results.push_back(std::move(missing));
      return results;
    }
    // Cross-owner transfers still in transit get settle_wait seconds to land: the checks are of
    // the ledger at rest.
    bool table_exists = has_in_transit_table(conn);
    std::string at_rest_note;
    if (!table_exists) {
      at_rest_note =
          "transfers_in_transit does not exist (before migration 007): checked without it";
    } else if (const long left =
                   wait_for_in_transit(conn, all_ids, in_transit.settle_wait_seconds)) {
      char waited[32];
      std::snprintf(waited, sizeof waited, "%.1f", in_transit.settle_wait_seconds);
      at_rest_note =
          std::to_string(left) + " transfers still in transit after waiting " + waited + " s";
    }
    // One snapshot for every check, so that they all see the same moment.
    pqxx::work txn(conn);
    txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    if (in_transit.self_check_corrupt) {
      InvariantResult planted("sql: the in-transit self-check planted its defects");
      const std::string problem =
          plant_in_transit_defects(txn, all_ids, table_exists, account_column);
      if (!problem.empty()) planted.fail(problem);
      table_exists = true;  // the private copy exists now
      at_rest_note.clear();
      results.push_back(std::move(planted));
    }
    run_ledger_checks(txn, ids, table_exists, account_column, at_rest_note, results);
    check_stored_balances(txn, ids, accounts, expected_minor, expected_held_minor, results);
    if (currency_accounts.extra) check_currency_accounts(txn, all_ids, currency_accounts, results);
    txn.commit();
  } catch (const std::exception& e) {
    InvariantResult failed("sql: the checks could run");
    failed.fail(e.what());
    results.push_back(std::move(failed));
  }
  return results;
}

}  // namespace wallet::stress
