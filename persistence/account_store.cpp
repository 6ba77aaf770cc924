#include "persistence/account_store.hpp"

#include "persistence/connection.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {
namespace {

// The columns of an AccountView, in the order view_from_row reads them, from `accounts a`.
const std::string kViewColumns =
    std::string(
        "SELECT a.account_id::text, a.user_id::text, a.currency, a.balance, a.overdraft_limit,"
        " a.status, a.metadata::text, to_char(a.created_at AT TIME ZONE 'UTC', '") +
    kRfc3339 +
    "'), coalesce((SELECT sum(h.amount) FROM holds h WHERE h.from_user_id = a.account_id"
    "  AND h.status = 'pending' AND h.expires_at > now()), 0)"
    " FROM accounts a ";

AccountView view_from_row(const pqxx::row& row) {
  AccountView view;
  view.account_id = row[0].as<std::string>();
  view.user_id = row[1].as<std::string>();
  view.currency = row[2].as<std::string>();
  view.exponent = exponent_of(view.currency);
  view.balance = minor_units(row[3], view.exponent);
  view.overdraft_limit = minor_units(row[4], view.exponent);
  view.status = row[5].as<std::string>();
  view.metadata = row[6].as<std::string>();
  view.created_at = row[7].as<std::string>();
  view.held = minor_units(row[8], view.exponent);
  return view;
}

std::optional<IdempotencyOutcome> stored_outcome(pqxx::work& txn, const IdempotencyOutcome& wanted,
                                                 std::chrono::seconds ttl) {
  auto rows = txn.exec_params(
      "SELECT request_hash, status_code, response_body,"
      "       (extract(epoch FROM now() - created_at) * 1000)::bigint"
      "  FROM idempotency_keys WHERE endpoint = $1 AND key = $2"
      "   AND created_at > now() - make_interval(secs => $3)",
      wanted.endpoint, wanted.key, static_cast<int64_t>(ttl.count()));
  if (rows.empty()) return std::nullopt;
  return IdempotencyOutcome{wanted.endpoint,
                            wanted.key,
                            rows[0][0].as<std::string>(),
                            rows[0][1].as<int>(),
                            rows[0][2].as<std::string>(),
                            rows[0][3].as<int64_t>()};
}

}  // namespace

AccountOpened create_account(pqxx::connection& conn, const NewAccount& wanted,
                             std::chrono::seconds ttl,
                             const std::function<std::string(const AccountView&)>& render) {
  AccountOpened opened;
  pqxx::work txn(conn);
  if (wanted.outcome) {
    if (auto stored = stored_outcome(txn, *wanted.outcome, ttl)) {
      opened.kind = AccountOpened::Kind::stored_outcome;
      opened.stored = std::move(*stored);
      return opened;
    }
    // An expired outcome under the key: the key starts a new operation.
    txn.exec_params("DELETE FROM idempotency_keys WHERE endpoint = $1 AND key = $2",
                    wanted.outcome->endpoint, wanted.outcome->key);
  }
  // The owner must be a user here: its default account exists (locked against a concurrent
  // change of it for this transaction's length).
  if (txn.exec_params("SELECT 1 FROM accounts WHERE account_id = $1 AND user_id = $1 FOR KEY SHARE",
                      wanted.user_id)
          .empty()) {
    opened.kind = AccountOpened::Kind::user_not_found;
    return opened;
  }
  txn.exec_params(
      "INSERT INTO accounts (account_id, user_id, currency, balance, overdraft_limit, metadata)"
      " VALUES ($1, $2, $3, 0, $4::numeric, $5::jsonb)",
      wanted.account_id, wanted.user_id, wanted.currency,
      money(wanted.overdraft_limit, wanted.exponent), wanted.metadata);
  opened.account =
      view_from_row(txn.exec_params1(kViewColumns + "WHERE a.account_id = $1", wanted.account_id));
  if (wanted.outcome) {
    auto inserted = txn.exec_params(
        "INSERT INTO idempotency_keys (endpoint, key, request_hash, status_code, response_body)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
        wanted.outcome->endpoint, wanted.outcome->key, wanted.outcome->request_hash,
        wanted.outcome->status, render(opened.account));
    if (inserted.empty()) {
      // The same key committed by a concurrent request first: its outcome is the answer.
      txn.abort();
      pqxx::work again(conn);
      if (auto stored = stored_outcome(again, *wanted.outcome, ttl)) {
        opened.kind = AccountOpened::Kind::stored_outcome;
        opened.stored = std::move(*stored);
        return opened;
      }
      throw std::runtime_error("an idempotency outcome vanished while it was being read");
    }
  }
  txn.commit();
  return opened;
}

std::optional<AccountView> account_view(pqxx::connection& conn, const std::string& account_id) {
  pqxx::read_transaction txn(conn);
  auto rows = txn.exec_params(kViewColumns + "WHERE a.account_id = $1", account_id);
  if (rows.empty()) return std::nullopt;
  return view_from_row(rows[0]);
}

std::vector<AccountView> account_views(pqxx::connection& conn,
                                       const std::vector<std::string>& ids) {
  ArrayLiteral wanted;
  for (const auto& id : ids) wanted.quoted(id);
  pqxx::read_transaction txn(conn);
  std::vector<AccountView> views;
  for (const auto& row :
       txn.exec_params(kViewColumns + "WHERE a.account_id = ANY ($1::uuid[])", wanted.text())) {
    views.push_back(view_from_row(row));
  }
  return views;
}

std::optional<std::vector<AccountView>> user_accounts(pqxx::connection& conn,
                                                      const std::string& user_id) {
  pqxx::read_transaction txn(conn);
  auto rows = txn.exec_params(kViewColumns +
                                  "WHERE a.user_id = $1"
                                  " ORDER BY a.account_id <> a.user_id, a.created_at, a.account_id",
                              user_id);
  if (rows.empty()) return std::nullopt;
  std::vector<AccountView> views;
  for (const auto& row : rows) views.push_back(view_from_row(row));
  return views;
}

}  // namespace wallet::persistence
