#include "test/support/ledger_invariants.hpp"

#include <chrono>
#include <thread>

#include "domain/ids.hpp"

namespace wallet::test {

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "}";
}

std::vector<std::string> create_accounts(pqxx::connection& conn, int count) {
  std::vector<std::string> ids;
  pqxx::work txn(conn);
  for (int i = 0; i < count; ++i) {
    ids.push_back(domain::new_uuid_v4());
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 0)", ids.back());
  }
  txn.commit();
  return ids;
}

std::string db_balance(pqxx::connection& conn, const std::string& user_id) {
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec_params("SELECT balance::text FROM users WHERE user_id = $1", user_id);
  return rows.empty() ? "" : rows[0][0].as<std::string>();
}

long count_rows(pqxx::connection& conn, const std::string& sql,
                const std::vector<std::string>& ids) {
  pqxx::nontransaction txn(conn);
  return txn.exec_params(sql, uuid_array(ids))[0][0].as<long>();
}

// Section 7 (several instances): a transfer between accounts of two owners commits its debit with
// a row in transfers_in_transit (migration 007), then its credit, deleting that row. The checks
// below take it into account when the table exists, and are those of one instance otherwise.
namespace {

constexpr auto kSettleWait = std::chrono::seconds(10);

bool has_in_transit_table(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return !txn.exec("SELECT to_regclass('transfers_in_transit')")[0][0].is_null();
}

// The ledger is checked at rest: transfers of these accounts still in transit get up to
// kSettleWait to land (what is left then is reported as a violation).
void wait_for_in_transit(pqxx::connection& conn, const std::string& ids) {
  const auto deadline = std::chrono::steady_clock::now() + kSettleWait;
  for (;;) {
    pqxx::nontransaction txn(conn);
    const long left = txn.exec_params(
                             "SELECT count(*) FROM transfers_in_transit WHERE from_user_id = "
                             "ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                             ids)[0][0]
                          .as<long>();
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

std::vector<std::string> ledger_violations(pqxx::connection& conn,
                                           const std::vector<std::string>& user_ids) {
  std::vector<std::string> problems;
  const std::string ids = uuid_array(user_ids);
  const bool in_transit = has_in_transit_table(conn);
  if (in_transit) wait_for_in_transit(conn, ids);
  // One snapshot for all checks, so they see the same moment.
  pqxx::work txn(conn);
  txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  auto report = [&](const std::string& what, const std::string& sql) {
    for (const auto& row : txn.exec_params(sql, ids)) {
      std::string line = what + ":";
      for (const auto& field : row)
        line += " " + std::string(field.is_null() ? "NULL" : field.c_str());
      problems.push_back(line);
    }
  };
  report("negative balance",
         "SELECT user_id, balance FROM users WHERE user_id = ANY($1::uuid[]) AND balance < 0");
  report("balance differs from the sum of its changes",
         "SELECT u.user_id, u.balance, coalesce(sum(t.balance_change), 0) FROM users u"
         " LEFT JOIN transactions t ON t.user_id = u.user_id WHERE u.user_id = ANY($1::uuid[])"
         " GROUP BY u.user_id, u.balance HAVING u.balance <> coalesce(sum(t.balance_change), 0)");
  report("row arithmetic",
         "SELECT id FROM transactions WHERE user_id = ANY($1::uuid[])"
         " AND old_balance + balance_change <> new_balance");
  report("gap in the balance chain",
         "SELECT user_id, seq, old_balance, prev FROM ("
         "  SELECT user_id, seq, old_balance,"
         "         coalesce(lag(new_balance) OVER (PARTITION BY user_id ORDER BY seq), 0) AS prev"
         "    FROM transactions WHERE user_id = ANY($1::uuid[])) c WHERE old_balance <> prev");
  report("chain does not end at the balance",
         "SELECT u.user_id, u.balance, last.new_balance FROM users u JOIN LATERAL ("
         "  SELECT new_balance FROM transactions t WHERE t.user_id = u.user_id"
         "  ORDER BY seq DESC LIMIT 1) last ON true"
         " WHERE u.user_id = ANY($1::uuid[]) AND last.new_balance <> u.balance");
  const std::string run_transfers =
      "SELECT transfer_id FROM transactions WHERE user_id = ANY($1::uuid[])"
      " AND transfer_id IS NOT NULL";
  const std::string run_in_transit =
      "SELECT * FROM transfers_in_transit WHERE from_user_id = ANY($1::uuid[])"
      " OR to_user_id = ANY($1::uuid[])";
  if (!in_transit) {
    report("transfer is not one debit and one credit netting to zero",
           "SELECT transfer_id, count(*), sum(balance_change) FROM transactions"
           " WHERE transfer_id IN (" +
               run_transfers +
               ") GROUP BY transfer_id HAVING count(*) <> 2 OR sum(balance_change) <> 0"
               "  OR count(*) FILTER (WHERE kind = 'transfer_debit') <> 1");
  } else {
    // A debit and (its credit xor its in-transit row), netting to zero.
    report("transfer is not one debit and (its credit xor its in-transit row) netting to zero",
           "SELECT coalesce(l.transfer_id, m.transfer_id), l.debits, l.credits, l.net, m.amount"
           " FROM (SELECT transfer_id, count(*) AS legs, sum(balance_change) AS net,"
           "         count(*) FILTER (WHERE kind = 'transfer_debit') AS debits,"
           "         count(*) FILTER (WHERE kind = 'transfer_credit') AS credits"
           "    FROM transactions WHERE transfer_id IN (" +
               run_transfers + ") GROUP BY transfer_id) l FULL JOIN (" + run_in_transit +
               ") m ON m.transfer_id = l.transfer_id"
               " WHERE l.transfer_id IS NULL OR l.debits <> 1 OR l.credits > 1"
               "    OR l.legs <> l.debits + l.credits"
               "    OR (l.credits = 1) = (m.transfer_id IS NOT NULL)"
               "    OR l.net + coalesce(m.amount, 0) <> 0");
  }
  report("transfer has two debits or two credits",
         "SELECT transfer_id, kind, count(*) FROM transactions WHERE transfer_id IN (" +
             run_transfers + ") GROUP BY transfer_id, kind HAVING count(*) > 1");
  report(in_transit ? "money not conserved (balances + in transit vs deposits - withdrawals)"
                    : "money not conserved (balances vs deposits - withdrawals)",
         std::string("SELECT b.total, m.total, d.total FROM"
                     " (SELECT coalesce(sum(balance), 0) AS total FROM users"
                     "   WHERE user_id = ANY($1::uuid[])) b,") +
             (in_transit ? " (SELECT coalesce(sum(amount), 0) AS total FROM transfers_in_transit"
                           "   WHERE from_user_id = ANY($1::uuid[])) m,"
                         : " (SELECT 0 AS total) m,") +
             " (SELECT coalesce(sum(balance_change), 0) AS total FROM transactions"
             "   WHERE user_id = ANY($1::uuid[]) AND kind IN ('deposit', 'withdrawal')) d"
             " WHERE b.total + m.total <> d.total");
  if (in_transit) {
    report("still in transit at rest",
           "SELECT transfer_id, from_user_id, to_user_id, amount, created_at FROM (" +
               run_in_transit + ") m");
  }
  // Release 2: holds.
  report("pending holds exceed the balance",
         "SELECT u.user_id, u.balance, sum(h.amount) FROM users u JOIN holds h"
         "  ON h.from_user_id = u.user_id AND h.status = 'pending'"
         " WHERE u.user_id = ANY($1::uuid[]) GROUP BY u.user_id, u.balance"
         " HAVING sum(h.amount) > u.balance");
  // Its credit may still be in transit (then its in-transit row names the payee and the amount).
  report(
      "captured hold without exactly its transfer",
      std::string("SELECT h.hold_id, h.transfer_id FROM holds h WHERE h.status = 'captured'"
                  "   AND h.from_user_id = ANY($1::uuid[])"
                  "   AND (SELECT count(*) FROM transactions t WHERE t.transfer_id = h.transfer_id"
                  "         AND ((t.kind = 'transfer_debit' AND t.user_id = h.from_user_id"
                  "               AND t.balance_change = -h.captured_amount)"
                  "           OR (t.kind = 'transfer_credit' AND t.user_id = h.to_user_id"
                  "               AND t.balance_change = h.captured_amount)))") +
          (in_transit ? " + (SELECT count(*) FROM transfers_in_transit m"
                        "     WHERE m.transfer_id = h.transfer_id AND m.to_user_id = h.to_user_id"
                        "       AND m.amount = h.captured_amount)"
                      : "") +
          " <> 2");
  txn.commit();
  return problems;
}

}  // namespace wallet::test
