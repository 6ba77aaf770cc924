// The ledger invariants in SQL, one InvariantResult ("sql: ...") per query.
#include "tools/wallet_stress/sql_verifier.hpp"

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <thread>
#include <unordered_map>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/sql_shared.hpp"

namespace wallet::stress {

// A real table's schema-qualified name (it may live in any schema of the search path); read before
// a temporary copy shadows it.
std::string qualified_table(pqxx::work& txn, const char* table) {
  return txn
      .exec_params1(
          "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
          " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
          table)[0]
      .as<std::string>();
}

bool has_temp_copy(pqxx::work& txn, const char* table) {
  return !txn.exec_params1("SELECT to_regclass('pg_temp.' || $1)", table)[0].is_null();
}

bool has_in_transit_table(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return !txn.exec("SELECT to_regclass('transfers_in_transit')")[0][0].is_null();
}

// Waits (up to `seconds`) until no transfer of the run is in transit; returns how many still are.
long wait_for_in_transit(pqxx::connection& conn, const std::string& ids, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (;;) {
    pqxx::nontransaction txn(conn);
    const long left = txn.exec_params(
                             "SELECT count(*) FROM transfers_in_transit WHERE from_user_id = "
                             "ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                             ids)[0][0]
                          .as<long>();
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

namespace {

struct Check {
  const char* name;
  // $1 is the uuid[] of the run's accounts; every row returned is a violation. `sql` runs while
  // transfers_in_transit does not exist (before migration 007), `in_transit_sql` (when not null)
  // once it does.
  const char* sql;
  const char* in_transit_sql = nullptr;
  // Run by verify_whole_ledger too ($1 every account of the database). The checks left out read
  // `users` (the default accounts): the accounts checks below cover every account instead.
  bool whole_ledger = false;
};

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

// ---- Accounts in several currencies (--currencies) --------------------------------------------

// $1 is the uuid[] of every account of the run (the default ones and the currency accounts); every
// row returned is a violation. Money is compared as numeric, in the account's own currency.
const Check kAccountChecks[] = {
    {"sql: accounts: balance >= -overdraft_limit per account",
     "SELECT account_id, currency, balance, overdraft_limit FROM accounts"
     " WHERE account_id = ANY($1::uuid[]) AND balance < -overdraft_limit"},
    {"sql: accounts: balance = sum(balance_change) of its rows, per account",
     "SELECT a.account_id, a.balance, coalesce(sum(t.balance_change), 0) FROM accounts a"
     " LEFT JOIN transactions t ON t.account_id = a.account_id"
     " WHERE a.account_id = ANY($1::uuid[]) GROUP BY a.account_id, a.balance"
     " HAVING a.balance <> coalesce(sum(t.balance_change), 0)"},
    {"sql: accounts: rows chained per account (old_balance = the previous row's new_balance by "
     "seq, old + change = new)",
     "SELECT account_id, seq, old_balance, balance_change, new_balance, prev FROM ("
     "  SELECT account_id, seq, old_balance, balance_change, new_balance,"
     "         coalesce(lag(new_balance) OVER (PARTITION BY account_id ORDER BY seq), 0) AS prev"
     "    FROM transactions WHERE account_id = ANY($1::uuid[])) c"
     " WHERE old_balance <> prev OR old_balance + balance_change <> new_balance"},
    {"sql: accounts: closed accounts hold 0 and no pending hold",
     "SELECT a.account_id, a.balance, (SELECT count(*) FROM holds h"
     "   WHERE h.from_user_id = a.account_id AND h.status = 'pending') AS pending_holds"
     "  FROM accounts a WHERE a.account_id = ANY($1::uuid[]) AND a.status = 'closed'"
     "   AND (a.balance <> 0 OR EXISTS (SELECT 1 FROM holds h"
     "        WHERE h.from_user_id = a.account_id AND h.status = 'pending'))"},
    // In transit: the money left its payer (transfers_in_transit names accounts), in the payer's
    // currency; deposits and withdrawals counted in their account's currency (a row in another
    // currency is the next check's).
    {"sql: accounts: per currency, sum of balances + in transit = deposits - withdrawals",
     "WITH run AS (SELECT account_id, currency, balance FROM accounts"
     "              WHERE account_id = ANY($1::uuid[])),"
     " b AS (SELECT currency, sum(balance) AS total FROM run GROUP BY currency),"
     " m AS (SELECT r.currency, sum(x.amount) AS total FROM transfers_in_transit x"
     "         JOIN run r ON r.account_id = x.from_user_id GROUP BY r.currency),"
     " d AS (SELECT r.currency, sum(t.balance_change) AS total FROM transactions t"
     "         JOIN run r ON r.account_id = t.account_id"
     "        WHERE t.kind IN ('deposit', 'withdrawal') GROUP BY r.currency)"
     " SELECT b.currency, b.total, coalesce(m.total, 0), coalesce(d.total, 0)"
     "   FROM b LEFT JOIN m USING (currency) LEFT JOIN d USING (currency)"
     "  WHERE b.total + coalesce(m.total, 0) <> coalesce(d.total, 0)"},
    {"sql: accounts: no row in another currency than its account's",
     "SELECT t.id, t.account_id, t.currency, a.currency FROM transactions t"
     "  JOIN accounts a ON a.account_id = t.account_id"
     " WHERE t.account_id = ANY($1::uuid[]) AND t.currency IS DISTINCT FROM a.currency"},
    // A transfer's debit and credit (or its debit and in-transit row) in one currency.
    {"sql: accounts: every transfer's rows in one currency",
     "SELECT t.transfer_id, string_agg(DISTINCT t.currency, ',') FROM transactions t"
     " WHERE t.transfer_id IN (SELECT transfer_id FROM transactions"
     "                          WHERE account_id = ANY($1::uuid[]) AND transfer_id IS NOT NULL)"
     " GROUP BY t.transfer_id HAVING count(DISTINCT t.currency) > 1"
     " UNION ALL"
     " SELECT m.transfer_id, fa.currency || '->' || ta.currency FROM transfers_in_transit m"
     "   JOIN accounts fa ON fa.account_id = m.from_user_id"
     "   JOIN accounts ta ON ta.account_id = m.to_user_id"
     "   LEFT JOIN transactions d ON d.transfer_id = m.transfer_id AND d.kind = 'transfer_debit'"
     "  WHERE (m.from_user_id = ANY($1::uuid[]) OR m.to_user_id = ANY($1::uuid[]))"
     "    AND (fa.currency <> ta.currency OR d.currency <> ta.currency)"},
};

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "}";
}

// The negative control of the accounts checks (--self-check-corrupt-accounts): as for the
// in-transit control, private temporary copies of the run's rows of accounts, transactions, holds
// and transfers_in_transit shadow the real tables inside the checks' transaction (a copy the
// in-transit control made already is used as it is), and one defect per check is planted there,
// each on its own currency account (never the first, whose expectations api_verifier miscounts):
//   1 an overdraft line put one minor unit below the account's debt;
//   2 a balance one minor unit above its rows (so also its currency's total, the driver's
//     expectation and GET /accounts/{id});
//   3 an account's newest row shifted by one minor unit (old and new: a gap in its chain);
//   4 a pending hold from a closed account;
//   5 an in-transit row of one minor unit that no transfer made, in another currency than 2's
//     when the run has two;
//   6 a deposit row relabelled to another currency;
//   7 a transfer's credit row relabelled to another currency (so also a row off its account's).
std::string plant_account_defects(pqxx::work& txn, const std::string& all_ids,
                                  const std::vector<CurrencyAccount>& extra,
                                  const std::vector<std::string>& status) {
  for (const char* table : {"accounts", "transactions", "holds", "transfers_in_transit"}) {
    if (has_temp_copy(txn, table)) continue;
    const std::string real = qualified_table(txn, table);
    const std::string where = std::string(table) == "accounts" ? "account_id = ANY($1::uuid[])"
                              : std::string(table) == "transactions"
                                  ? "user_id = ANY($1::uuid[])"  // every run account
                                  : "from_user_id = ANY($1::uuid[]) OR to_user_id = "
                                    "ANY($1::uuid[])";
    txn.exec_params("CREATE TEMP TABLE " + std::string(table) +
                        " ON COMMIT DROP AS SELECT * FROM " + real + " WHERE " + where,
                    all_ids);
  }
  // The currency accounts for transfers, per currency, without the first (api_verifier's).
  std::vector<std::vector<size_t>> by_currency;
  bool first = true;
  for (size_t a = 0; a < extra.size(); ++a) {
    if (extra[a].closable) continue;
    if (first) {
      first = false;
      continue;
    }
    if (by_currency.size() <= extra[a].currency) by_currency.resize(extra[a].currency + 1);
    by_currency[extra[a].currency].push_back(a);
  }
  std::vector<size_t> pool0 = by_currency.empty() ? std::vector<size_t>{} : by_currency[0];
  std::vector<size_t> pool1 = by_currency.size() > 1 ? by_currency[1] : std::vector<size_t>{};
  if (pool1.empty()) {
    // One currency: 5 and 6 take the next accounts of it.
    for (size_t i = 3; i < pool0.size(); ++i) pool1.push_back(pool0[i]);
  }
  if (pool0.size() < 3 || pool1.size() < 2) {
    return "too few currency accounts to corrupt (--users 4 or more are needed)";
  }
  long closed = -1;
  for (size_t a = 0; a < extra.size() && closed < 0; ++a) {
    if (status[a] == "closed") closed = static_cast<long>(a);
  }
  if (closed < 0) return "the run closed no account (--mix close=N is needed)";
  auto id = [&](size_t a) { return extra[a].account_id; };
  auto unit = [&](size_t a) { return domain::format_minor(1, extra[a].exponent); };
  std::vector<std::string> missed;
  auto expect_one = [&](const pqxx::result& r, const char* what) {
    if (r.affected_rows() != 1) missed.push_back(what);
  };
  expect_one(txn.exec_params("UPDATE accounts SET overdraft_limit = -balance - $2::numeric"
                             " WHERE account_id = $1::uuid",
                             id(pool0[0]), unit(pool0[0])),
             "1 (the line below the debt)");
  expect_one(txn.exec_params("UPDATE accounts SET balance = balance + $2::numeric"
                             " WHERE account_id = $1::uuid",
                             id(pool0[1]), unit(pool0[1])),
             "2 (a balance above its rows)");
  expect_one(txn.exec_params("UPDATE transactions SET old_balance = old_balance + $2::numeric,"
                             " new_balance = new_balance + $2::numeric WHERE id = ("
                             " SELECT id FROM transactions WHERE account_id = $1::uuid"
                             " ORDER BY seq DESC LIMIT 1)",
                             id(pool0[2]), unit(pool0[2])),
             "3 (a gap in a chain)");
  expect_one(txn.exec_params("INSERT INTO holds (hold_id, from_user_id, to_user_id, amount, status,"
                             " expires_at, created_at)"
                             " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::numeric, 'pending',"
                             " now() + interval '1 hour', now())",
                             domain::new_uuid_v4(), id(static_cast<size_t>(closed)), id(pool0[0]),
                             unit(static_cast<size_t>(closed))),
             "4 (a pending hold from a closed account)");
  expect_one(txn.exec_params("INSERT INTO transfers_in_transit"
                             " (transfer_id, from_user_id, to_user_id, amount, to_partition,"
                             " created_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::numeric, 0,"
                             " now())",
                             domain::new_uuid_v4(), id(pool1[0]), id(pool1[1]), unit(pool1[0])),
             "5 (money in transit that no transfer sent)");
  expect_one(txn.exec_params("UPDATE transactions SET currency = 'XXX' WHERE id = ("
                             " SELECT id FROM transactions WHERE account_id = $1::uuid"
                             " AND kind = 'deposit' ORDER BY seq LIMIT 1)",
                             id(pool1[1])),
             "6 (a deposit in another currency)");
  std::string extra_ids = "{";
  for (size_t a = 0; a < extra.size(); ++a) extra_ids += (a ? "," : "") + extra[a].account_id;
  extra_ids += "}";
  expect_one(txn.exec_params("UPDATE transactions SET currency = 'XXX' WHERE id = ("
                             " SELECT c.id FROM transactions c JOIN transactions d"
                             "   ON d.transfer_id = c.transfer_id AND d.kind = 'transfer_debit'"
                             " WHERE c.kind = 'transfer_credit' AND c.account_id = ANY($1::uuid[])"
                             "   AND d.account_id = ANY($1::uuid[]) ORDER BY c.seq LIMIT 1)",
                             extra_ids),
             "7 (a transfer's credit in another currency)");
  if (missed.empty()) return "";
  std::string text = "could not plant defect";
  for (const auto& m : missed) text += " " + m;
  return text;
}

// Runs the accounts checks inside the checks' transaction.
void check_currency_accounts(pqxx::work& txn, const std::string& all_ids,
                             const CurrencyAccountsInput& in,
                             std::vector<InvariantResult>& results) {
  const auto& extra = *in.extra;
  if (in.self_check_corrupt) {
    InvariantResult planted("sql: accounts: the accounts self-check planted its defects");
    const std::string problem = plant_account_defects(txn, all_ids, extra, in.expected_status);
    if (!problem.empty()) planted.fail(problem);
    results.push_back(std::move(planted));
  }
  for (const auto& check : kAccountChecks) {
    InvariantResult result(check.name);
    for (const auto& row : txn.exec_params(check.sql, all_ids)) {
      std::string line;
      for (const auto& field : row) {
        line += (line.empty() ? "" : " ") + std::string(field.is_null() ? "NULL" : field.c_str());
      }
      result.fail(line);
    }
    results.push_back(std::move(result));
  }
  // The currency accounts' rows against what the driver knows of them.
  InvariantResult stored("sql: accounts: stored balances = the driver's expectation");
  InvariantResult record("sql: accounts: status and overdraft line = the driver's record");
  InvariantResult api("sql: accounts: GET /accounts/{id} balance = the stored balance");
  std::unordered_map<std::string, size_t> index;
  std::string ids = "{";
  for (size_t a = 0; a < extra.size(); ++a) {
    index.emplace(extra[a].account_id, a);
    ids += (a ? "," : "") + extra[a].account_id;
  }
  ids += "}";
  size_t seen = 0;
  for (const auto& row : txn.exec_params(
           "SELECT account_id::text, balance::text, overdraft_limit::text, status FROM accounts"
           " WHERE account_id = ANY($1::uuid[])",
           ids)) {
    auto it = index.find(row[0].c_str());
    if (it == index.end()) continue;
    ++seen;
    const size_t a = it->second;
    const int e = extra[a].exponent;
    auto money = [e](int64_t minor) { return domain::format_minor(minor, e); };
    const auto balance = domain::parse_stored_minor(row[1].c_str(), e);
    const auto line = domain::parse_stored_minor(row[2].c_str(), e);
    if (!balance || *balance != in.expected_minor[a]) {
      stored.fail(it->first + ": stored " + row[1].c_str() + ", expected " +
                  money(in.expected_minor[a]));
    }
    if (!line || *line != in.expected_line[a] || in.expected_status[a] != row[3].c_str()) {
      record.fail(it->first + ": " + row[3].c_str() + " overdraft_limit " + row[2].c_str() +
                  ", the driver left it " + in.expected_status[a] + " overdraft_limit " +
                  money(in.expected_line[a]));
    }
    if (!in.read_minor[a] || !balance || *in.read_minor[a] != *balance) {
      api.fail(it->first + ": stored " + row[1].c_str() + ", GET /accounts/{id} " +
               (in.read_minor[a] ? money(*in.read_minor[a]) : std::string("not read")));
    }
  }
  if (seen != extra.size()) {
    stored.fail(std::to_string(extra.size() - seen) + " accounts are not in the database");
  }
  results.push_back(std::move(stored));
  results.push_back(std::move(record));
  results.push_back(std::move(api));
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
    for (const auto& check : kChecks) {
      InvariantResult result(check.name);
      const bool with_table = table_exists && check.in_transit_sql;
      const std::string sql =
          with_account_column(with_table ? check.in_transit_sql : check.sql, account_column);
      for (const auto& row : txn.exec_params(sql, ids)) {
        std::string line;
        for (const auto& field : row) {
          line += (line.empty() ? "" : " ") + std::string(field.is_null() ? "NULL" : field.c_str());
        }
        result.fail(line);
      }
      if (check.in_transit_sql && !table_exists) {
        result.note =
            "transfers_in_transit does not exist (before migration 007): checked without it";
      }
      if (std::string(check.name) == "sql: nothing left in transit at rest") {
        result.note = at_rest_note;
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
    if (currency_accounts.extra) check_currency_accounts(txn, all_ids, currency_accounts, results);
    txn.commit();
  } catch (const std::exception& e) {
    InvariantResult failed("sql: the checks could run");
    failed.fail(e.what());
    results.push_back(std::move(failed));
  }
  return results;
}

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
    auto run = [&](const char* name, const std::string& sql) {
      InvariantResult result(name);
      for (const auto& row : txn.exec_params(sql, ids)) {
        std::string line;
        for (const auto& field : row) {
          line += (line.empty() ? "" : " ") + std::string(field.is_null() ? "NULL" : field.c_str());
        }
        result.fail(line);
      }
      return result;
    };
    for (const auto& check : kAccountChecks) results.push_back(run(check.name, check.sql));
    // The holds of transactions across owners (migration 012) are settled as their transaction's
    // postings, not as a transfer: the captured-hold check is of the holds of transfers.
    const bool transaction_holds = !txn.exec(
                                           "SELECT 1 FROM pg_attribute WHERE attrelid ="
                                           " to_regclass('holds') AND attname = 'transaction_id'"
                                           " AND NOT attisdropped")
                                        .empty();
    for (const auto& check : kChecks) {
      if (!check.whole_ledger) continue;
      std::string sql = with_account_column(check.in_transit_sql ? check.in_transit_sql : check.sql,
                                            "account_id");
      static const std::string holds = "FROM holds h";
      for (size_t at = sql.find(holds); transaction_holds && at != std::string::npos;
           at = sql.find(holds, at + 1)) {
        sql.replace(at, holds.size(), "FROM (SELECT * FROM holds WHERE transaction_id IS NULL) h");
      }
      results.push_back(run(check.name, sql));
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

std::vector<AccountLedgerCheck> account_ledger_checks() {
  // kAccountChecks[1] and [2]: balance = sum of its rows, and the chain.
  return {{kAccountChecks[1].name, kAccountChecks[1].sql},
          {kAccountChecks[2].name, kAccountChecks[2].sql}};
}

}  // namespace wallet::stress
