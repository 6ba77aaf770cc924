// The SQL checks of the accounts in several currencies (--currencies): balance rules, chains and
// currencies per account, the stored accounts against the driver's record, and the negative
// control that plants one defect per check.
#include <iterator>
#include <pqxx/pqxx>
#include <unordered_map>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/sql_shared.hpp"
#include "tools/wallet_stress/sql_verifier_internal.hpp"

namespace wallet::stress {
namespace sql_checks {
namespace {

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

// Private temporary copies of the run's rows of the tables the accounts checks read (a copy the
// in-transit control made already is used as it is).
void copy_account_tables(pqxx::work& txn, const std::string& all_ids) {
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
}

// The currency accounts the defects go to: for transfers, without the first (api_verifier's),
// those of the first currency (pool0) and of the second (pool1; with one currency, the first's
// from its fourth on).
void defect_pools(const std::vector<CurrencyAccount>& extra, std::vector<size_t>& pool0,
                  std::vector<size_t>& pool1) {
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
  pool0 = by_currency.empty() ? std::vector<size_t>{} : by_currency[0];
  pool1 = by_currency.size() > 1 ? by_currency[1] : std::vector<size_t>{};
  if (pool1.empty()) {
    // One currency: 5 and 6 take the next accounts of it.
    for (size_t i = 3; i < pool0.size(); ++i) pool1.push_back(pool0[i]);
  }
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
  copy_account_tables(txn, all_ids);
  std::vector<size_t> pool0, pool1;
  defect_pools(extra, pool0, pool1);
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

}  // namespace

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "}";
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
    results.push_back(run_check(txn, check.name, check.sql, all_ids));
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

InvariantResult run_check(pqxx::work& txn, const char* name, const std::string& sql,
                          const std::string& ids) {
  InvariantResult result(name);
  for (const auto& row : txn.exec_params(sql, ids)) {
    std::string line;
    for (const auto& field : row) {
      line += (line.empty() ? "" : " ") + std::string(field.is_null() ? "NULL" : field.c_str());
    }
    result.fail(line);
  }
  return result;
}

std::vector<Check> account_checks() {
  return {std::begin(kAccountChecks), std::end(kAccountChecks)};
}

}  // namespace sql_checks

std::vector<AccountLedgerCheck> account_ledger_checks() {
  // sql_checks::kAccountChecks[1] and [2]: balance = sum of its rows, and the chain.
  return {{sql_checks::kAccountChecks[1].name, sql_checks::kAccountChecks[1].sql},
          {sql_checks::kAccountChecks[2].name, sql_checks::kAccountChecks[2].sql}};
}

}  // namespace wallet::stress
