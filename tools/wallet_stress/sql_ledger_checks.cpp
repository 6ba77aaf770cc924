// The ledger invariants in SQL, one InvariantResult ("sql: ...") per query: the table of checks
// that verify_in_database runs over a run's accounts (sql_verifier.cpp), and verify_whole_ledger,
// which runs those that hold for any set of accounts (and the accounts checks of
// sql_account_checks.cpp) over every account of a database (wallet-ledger-check).
#include <iterator>
#include <pqxx/pqxx>

#include "tools/wallet_stress/sql_shared.hpp"
#include "tools/wallet_stress/sql_verifier.hpp"
#include "tools/wallet_stress/sql_verifier_internal.hpp"

namespace wallet::stress {
namespace sql_checks {
namespace {

// The transfers of the run: every transfer_id on a row of its accounts.
#define RUN_TRANSFERS                                                   \
  "SELECT transfer_id FROM transactions WHERE TXACCT = ANY($1::uuid[])" \
  " AND transfer_id IS NOT NULL"
#define RUN_IN_TRANSIT                                                      \
  "SELECT * FROM transfers_in_transit WHERE from_user_id = ANY($1::uuid[])" \
  " OR to_user_id = ANY($1::uuid[])"

const Check kChecks[] = {
    {"sql: no negative balance",
     "SELECT user_id, balance FROM users WHERE user_id = ANY($1::uuid[]) AND balance < 0"},
    {"sql: balance = sum(balance_change) per account",
     "SELECT u.user_id, u.balance, coalesce(sum(t.balance_change), 0) FROM users u"
     " LEFT JOIN transactions t ON t.TXACCT = u.user_id WHERE u.user_id = ANY($1::uuid[])"
     " GROUP BY u.user_id, u.balance HAVING u.balance <> coalesce(sum(t.balance_change), 0)"},
    {"sql: old_balance + balance_change = new_balance per row",
     "SELECT id FROM transactions WHERE TXACCT = ANY($1::uuid[])"
     " AND old_balance + balance_change <> new_balance"},
    {"sql: gap-free balance chain per account",
     "SELECT TXACCT, seq, old_balance, prev FROM ("
     "  SELECT TXACCT, seq, old_balance,"
     "         coalesce(lag(new_balance) OVER (PARTITION BY TXACCT ORDER BY seq), 0) AS prev"
     "    FROM transactions WHERE TXACCT = ANY($1::uuid[])) c WHERE old_balance <> prev"},
    {"sql: chain ends at the balance",
     "SELECT u.user_id, u.balance, last.new_balance FROM users u JOIN LATERAL ("
     "  SELECT new_balance FROM transactions t WHERE t.TXACCT = u.user_id"
     "  ORDER BY seq DESC LIMIT 1) last ON true"
     " WHERE u.user_id = ANY($1::uuid[]) AND last.new_balance <> u.balance"},
    // Across owners a transfer is its debit and, until the payee's owner credits it, an in-transit
    // row; then its credit, and the in-transit row is gone: a debit and (a credit xor in transit).
    {"sql: each transfer is one debit and (its credit xor its in-transit row), netting to zero",
     "SELECT transfer_id, count(*), sum(balance_change) FROM transactions"
     " WHERE transfer_id IN (" RUN_TRANSFERS ")"
     " GROUP BY transfer_id HAVING count(*) <> 2 OR sum(balance_change) <> 0"
     "  OR count(*) FILTER (WHERE kind = 'transfer_debit') <> 1",
     "SELECT coalesce(l.transfer_id, m.transfer_id), l.debits, l.credits, l.net, m.amount FROM ("
     "  SELECT transfer_id, count(*) AS legs, sum(balance_change) AS net,"
     "         count(*) FILTER (WHERE kind = 'transfer_debit') AS debits,"
     "         count(*) FILTER (WHERE kind = 'transfer_credit') AS credits"
     "    FROM transactions WHERE transfer_id IN (" RUN_TRANSFERS ") GROUP BY transfer_id) l"
     " FULL JOIN (" RUN_IN_TRANSIT ") m ON m.transfer_id = l.transfer_id"
     " WHERE l.transfer_id IS NULL OR l.debits <> 1 OR l.credits > 1"
     "    OR l.legs <> l.debits + l.credits OR (l.credits = 1) = (m.transfer_id IS NOT NULL)"
     "    OR l.net + coalesce(m.amount, 0) <> 0",
     true},
    {"sql: no transfer has two debits or two credits",
     "SELECT transfer_id, kind, count(*) FROM transactions WHERE transfer_id IN (" RUN_TRANSFERS ")"
     " GROUP BY transfer_id, kind HAVING count(*) > 1",
     nullptr, true},
    {"sql: money conserved (sum of balances + in transit = deposits - withdrawals)",
     "SELECT b.total, d.total FROM"
     " (SELECT coalesce(sum(balance), 0) AS total FROM users WHERE user_id = ANY($1::uuid[])) b,"
     " (SELECT coalesce(sum(balance_change), 0) AS total FROM transactions"
     "   WHERE TXACCT = ANY($1::uuid[]) AND kind IN ('deposit', 'withdrawal')) d"
     " WHERE b.total <> d.total",
     "SELECT b.total, m.total, d.total FROM"
     " (SELECT coalesce(sum(balance), 0) AS total FROM users WHERE user_id = ANY($1::uuid[])) b,"
     " (SELECT coalesce(sum(amount), 0) AS total FROM transfers_in_transit"
     "   WHERE from_user_id = ANY($1::uuid[])) m,"
     " (SELECT coalesce(sum(balance_change), 0) AS total FROM transactions"
     "   WHERE TXACCT = ANY($1::uuid[]) AND kind IN ('deposit', 'withdrawal')) d"
     " WHERE b.total + m.total <> d.total"},
    // Holds.
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
     "          AND t.TXACCT = h.from_user_id AND t.kind = 'transfer_debit'"
     "          AND t.balance_change = -h.captured_amount)",
     // Its credit may still be in transit.
     "SELECT h.hold_id, h.transfer_id FROM holds h"
     " WHERE h.status = 'captured' AND h.from_user_id = ANY($1::uuid[])"
     "   AND (SELECT count(*) FROM transactions t WHERE t.transfer_id = h.transfer_id)"
     "     + (SELECT count(*) FROM transfers_in_transit m WHERE m.transfer_id = h.transfer_id) <> 2"
     "    OR h.status = 'captured' AND h.from_user_id = ANY($1::uuid[]) AND NOT EXISTS ("
     "       SELECT 1 FROM transactions t WHERE t.transfer_id = h.transfer_id"
     "          AND t.TXACCT = h.from_user_id AND t.kind = 'transfer_debit'"
     "          AND t.balance_change = -h.captured_amount)",
     true},
    {"sql: nothing left in transit at rest", "SELECT 1 FROM unnest($1::uuid[]) WHERE false",
     "SELECT transfer_id, from_user_id, to_user_id, amount, created_at FROM (" RUN_IN_TRANSIT ") m",
     true},
};

#undef RUN_TRANSFERS
#undef RUN_IN_TRANSIT

}  // namespace

std::vector<Check> ledger_checks() { return {std::begin(kChecks), std::end(kChecks)}; }

// The column that names a ledger row's account: `account_id` once accounts exist
// (migration 010; user_id is then the account's owner), `user_id` before. The checks above write
// TXACCT for it.
std::string with_account_column(std::string sql, const char* column) {
  static const std::string token = "TXACCT";
  for (size_t at = sql.find(token); at != std::string::npos; at = sql.find(token, at)) {
    sql.replace(at, token.size(), column);
  }
  return sql;
}

bool has_account_column(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return !txn.exec(
                 "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('transactions')"
                 " AND attname = 'account_id' AND NOT attisdropped")
              .empty();
}

}  // namespace sql_checks

using namespace sql_checks;

std::vector<InvariantResult> verify_whole_ledger(const std::string& database_url,
                                                 double settle_wait_seconds) {
  std::vector<InvariantResult> results;
  try {
    pqxx::connection conn(database_url);
    if (!has_account_column(conn) || !has_in_transit_table(conn)) {
      InvariantResult missing(
          "sql: whole ledger: the database has accounts and transfers_in_transit");
      missing.fail("the checks need migrations 007 and 010");
      results.push_back(std::move(missing));
      return results;
    }
    const std::string all_ids =
        pqxx::nontransaction(conn)
            .exec1("SELECT coalesce(array_agg(account_id), '{}')::text FROM accounts")[0]
            .as<std::string>();
    const long left = wait_for_in_transit(conn, all_ids, settle_wait_seconds);
    pqxx::work txn(conn);
    txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    // The snapshot's accounts (one may have been opened since the list above).
    const std::string ids =
        txn.exec1("SELECT coalesce(array_agg(account_id), '{}')::text FROM accounts")[0]
            .as<std::string>();
    for (const auto& check : account_checks())
      results.push_back(run_check(txn, check.name, check.sql, ids));
    // No foreign key keeps this since migration 013 (the ledger's writers and a trigger refusing
    // to delete accounts do): every row of the whole ledger names an account of the snapshot.
    results.push_back(run_check(
        txn, "sql: whole ledger: every row names an existing account",
        "SELECT t.id, t.account_id FROM transactions t WHERE NOT EXISTS ("
        " SELECT 1 FROM unnest($1::uuid[]) AS a(account_id) WHERE a.account_id = t.account_id)",
        ids));
    // The holds of transactions across owners (migration 012) are settled as their transaction's
    // postings, not as a transfer: the captured-hold check is of the holds of transfers.
    const bool transaction_holds = !txn.exec(
                                           "SELECT 1 FROM pg_attribute WHERE attrelid ="
                                           " to_regclass('holds') AND attname = 'transaction_id'"
                                           " AND NOT attisdropped")
                                        .empty();
    for (const auto& check : ledger_checks()) {
      if (!check.whole_ledger) continue;
      std::string sql = with_account_column(check.in_transit_sql ? check.in_transit_sql : check.sql,
                                            "account_id");
      static const std::string holds = "FROM holds h";
      for (size_t at = sql.find(holds); transaction_holds && at != std::string::npos;
           at = sql.find(holds, at + 1)) {
        sql.replace(at, holds.size(), "FROM (SELECT * FROM holds WHERE transaction_id IS NULL) h");
      }
      results.push_back(run_check(txn, check.name, sql, ids));
      if (std::string(check.name) == "sql: nothing left in transit at rest" && left > 0) {
        results.back().note = std::to_string(left) + " transfers still in transit after waiting";
      }
    }
    txn.commit();
  } catch (const std::exception& e) {
    InvariantResult failed("sql: the checks could run");
    failed.fail(e.what());
    results.push_back(std::move(failed));
  }
  return results;
}

}  // namespace wallet::stress
