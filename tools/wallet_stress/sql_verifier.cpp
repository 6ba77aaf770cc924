// The ledger invariants in SQL, one InvariantResult ("sql: ...") per query.
#include "tools/wallet_stress/sql_verifier.hpp"

#include <pqxx/pqxx>
#include <unordered_map>

#include "domain/money.hpp"

namespace wallet::stress {
namespace {

struct Check {
  const char* name;
  const char* sql;  // $1 is the uuid[] of the run's accounts; every row returned is a violation
};

const Check kChecks[] = {
    {"sql: no negative balance",
     "SELECT user_id, balance FROM users WHERE user_id = ANY($1::uuid[]) AND balance < 0"},
    {"sql: balance = sum(balance_change) per account",
     "SELECT u.user_id, u.balance, coalesce(sum(t.balance_change), 0) FROM users u"
     " LEFT JOIN transactions t ON t.user_id = u.user_id WHERE u.user_id = ANY($1::uuid[])"
     " GROUP BY u.user_id, u.balance HAVING u.balance <> coalesce(sum(t.balance_change), 0)"},
    {"sql: old_balance + balance_change = new_balance per row",
     "SELECT id FROM transactions WHERE user_id = ANY($1::uuid[])"
     " AND old_balance + balance_change <> new_balance"},
    {"sql: gap-free balance chain per account",
     "SELECT user_id, seq, old_balance, prev FROM ("
     "  SELECT user_id, seq, old_balance,"
     "         coalesce(lag(new_balance) OVER (PARTITION BY user_id ORDER BY seq), 0) AS prev"
     "    FROM transactions WHERE user_id = ANY($1::uuid[])) c WHERE old_balance <> prev"},
    {"sql: chain ends at the balance",
     "SELECT u.user_id, u.balance, last.new_balance FROM users u JOIN LATERAL ("
     "  SELECT new_balance FROM transactions t WHERE t.user_id = u.user_id"
     "  ORDER BY seq DESC LIMIT 1) last ON true"
     " WHERE u.user_id = ANY($1::uuid[]) AND last.new_balance <> u.balance"},
    {"sql: each transfer is one debit and one credit netting to zero",
     "SELECT transfer_id, count(*), sum(balance_change) FROM transactions"
     " WHERE transfer_id IN (SELECT transfer_id FROM transactions"
     "                        WHERE user_id = ANY($1::uuid[]) AND transfer_id IS NOT NULL)"
     " GROUP BY transfer_id HAVING count(*) <> 2 OR sum(balance_change) <> 0"
     "  OR count(*) FILTER (WHERE kind = 'transfer_debit') <> 1"},
    {"sql: money conserved (sum of balances = deposits - withdrawals)",
     "SELECT b.total, d.total FROM"
     " (SELECT coalesce(sum(balance), 0) AS total FROM users WHERE user_id = ANY($1::uuid[])) b,"
     " (SELECT coalesce(sum(balance_change), 0) AS total FROM transactions"
     "   WHERE user_id = ANY($1::uuid[]) AND kind IN ('deposit', 'withdrawal')) d"
     " WHERE b.total <> d.total"},
    // Release 2: holds.
    {"sql: pending holds <= balance per account",
     "SELECT u.user_id, u.balance, sum(h.amount) FROM users u JOIN holds h"
     "  ON h.from_user_id = u.user_id AND h.status = 'pending'"
     " WHERE u.user_id = ANY($1::uuid[]) GROUP BY u.user_id, u.balance"
     " HAVING sum(h.amount) > u.balance"},
    {"sql: every captured hold has exactly one transfer (its debit and credit)",
     "SELECT h.hold_id, h.transfer_id FROM holds h"
     " WHERE h.status = 'captured' AND h.from_user_id = ANY($1::uuid[])"
     "   AND (SELECT count(*) FROM transactions t WHERE t.transfer_id = h.transfer_id) <> 2"
     "    OR h.status = 'captured' AND h.from_user_id = ANY($1::uuid[]) AND NOT EXISTS ("
     "       SELECT 1 FROM transactions t WHERE t.transfer_id = h.transfer_id"
     "          AND t.user_id = h.from_user_id AND t.kind = 'transfer_debit'"
     "          AND t.balance_change = -h.captured_amount)"},
};

std::string uuid_array(const std::vector<Account>& accounts) {
  std::string out = "{";
  for (size_t i = 0; i < accounts.size(); ++i) out += (i ? "," : "") + accounts[i].user_id;
  return out + "}";
}

}  // namespace

std::vector<InvariantResult> verify_in_database(const std::string& database_url,
                                                const std::vector<Account>& accounts,
                                                const std::vector<int64_t>& expected_minor,
                                                const std::vector<int64_t>& expected_held_minor) {
  std::vector<InvariantResult> results;
  try {
    pqxx::connection conn(database_url);
    // One snapshot for every check, so that they all see the same moment.
    pqxx::work txn(conn);
    txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    const std::string ids = uuid_array(accounts);
    for (const auto& check : kChecks) {
      InvariantResult result(check.name);
      for (const auto& row : txn.exec_params(check.sql, ids)) {
        std::string line;
        for (const auto& field : row) {
          line += (line.empty() ? "" : " ") + std::string(field.is_null() ? "NULL" : field.c_str());
        }
        result.fail(line);
      }
      results.push_back(std::move(result));
    }
    InvariantResult stored("sql: stored balances = the driver's expectation from its 200 answers");
    std::unordered_map<std::string, size_t> index;
    for (size_t a = 0; a < accounts.size(); ++a) index.emplace(accounts[a].user_id, a);
    size_t seen = 0;
    for (const auto& row : txn.exec_params(
             "SELECT user_id::text, balance::text FROM users WHERE user_id = ANY($1::uuid[])",
             ids)) {
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
    // Release 2: available = balance - pending holds, with the pending holds the driver expects.
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
    txn.commit();
  } catch (const std::exception& e) {
    InvariantResult failed("sql: the checks could run");
    failed.fail(e.what());
    results.push_back(std::move(failed));
  }
  return results;
}

}  // namespace wallet::stress
