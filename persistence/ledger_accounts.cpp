// Account reads (the balance, the account as its actor loads it, a page of its history) and
// opening an account.
#include <algorithm>

#include "domain/currency.hpp"
#include "persistence/hold_rows.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {

std::optional<int64_t> load_balance(pqxx::connection& conn, const std::string& user_id) {
  pqxx::nontransaction txn(conn);
  auto rows =
      txn.exec_params("SELECT balance, currency FROM accounts WHERE account_id = $1", user_id);
  if (rows.empty()) return std::nullopt;
  return minor_units(rows[0][0], exponent_of(rows[0][1].as<std::string>()));
}

std::optional<HistoryPage> load_history_page(pqxx::connection& conn, const std::string& user_id,
                                             int limit, int64_t before) {
  pqxx::read_transaction txn(conn);
  // The user form (SPEC.md sections 2 to 7): a user's default account only.
  auto account = txn.exec_params(
      "SELECT currency FROM accounts WHERE account_id = $1 AND user_id = $1", user_id);
  if (account.empty()) return std::nullopt;
  const int exponent = exponent_of(account[0][0].as<std::string>());
  // One row more than asked tells whether another page follows. seq only grows, so rows that
  // commit while a client pages land above its cursor and never shift a page.
  auto rows = txn.exec_params(
      std::string("SELECT id, balance_change, old_balance, new_balance, kind,"
                  " coalesce(transfer_id::text, ''),"
                  " to_char(created_at AT TIME ZONE 'UTC', '") +
          kRfc3339 +
          "'), seq FROM transactions WHERE account_id = $1 AND ($2::bigint = 0 OR seq < $2::bigint)"
          " ORDER BY seq DESC LIMIT $3",
      user_id, before, limit + 1);
  HistoryPage page;
  page.exponent = exponent;
  page.rows.reserve(std::min<size_t>(rows.size(), static_cast<size_t>(limit)));
  for (const auto& row : rows) {
    if (page.rows.size() == static_cast<size_t>(limit)) {
      page.next_before = rows[limit - 1][7].as<int64_t>();
      break;
    }
    page.rows.push_back(HistoryRow{row[0].as<std::string>(), minor_units(row[1], exponent),
                                   minor_units(row[2], exponent), minor_units(row[3], exponent),
                                   row[4].as<std::string>(), row[5].as<std::string>(),
                                   row[6].as<std::string>()});
  }
  return page;
}

std::optional<AccountRecord> load_account(pqxx::connection& conn, const std::string& user_id) {
  // One snapshot: the balance and the holds it backs must be read at the same moment.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
  auto found = txn.exec_params(
      "SELECT balance, user_id::text, currency, overdraft_limit, status FROM accounts"
      " WHERE account_id = $1",
      user_id);
  if (found.empty()) return std::nullopt;
  AccountRecord account;
  account.user_id = found[0][1].as<std::string>();
  account.currency = found[0][2].as<std::string>();
  account.exponent = exponent_of(account.currency);
  account.balance = minor_units(found[0][0], account.exponent);
  account.overdraft_limit = minor_units(found[0][3], account.exponent);
  account.status =
      parse_account_status(found[0][4].as<std::string>()).value_or(AccountStatus::open);
  auto holds = txn.exec_params("SELECT " + kHoldColumns + kHoldsWithPayer +
                                   "WHERE h.from_user_id = $1 AND h.status = 'pending'",
                               user_id);
  for (const auto& row : holds) account.pending_holds.push_back(hold_from_row(row));
  return account;
}

bool open_account(pqxx::connection& conn, const std::string& user_id,
                  const std::string& created_at) {
  pqxx::work txn(conn);
  const auto& currency = domain::configured_currencies().default_currency();
  auto rows = txn.exec_params(
      "INSERT INTO accounts (account_id, user_id, currency, balance, created_at)"
      " VALUES ($1, $1, $2, $3::numeric, coalesce(nullif($4, '')::timestamptz, now()))"
      " ON CONFLICT (account_id) DO NOTHING RETURNING account_id",
      user_id, currency.code, money(0, currency.exponent), created_at);
  txn.commit();
  return !rows.empty();
}

}  // namespace wallet::persistence
