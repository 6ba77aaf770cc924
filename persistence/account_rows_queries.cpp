// One account's ledger rows, paged newest first within a time range, and its balance at an instant
// (SPEC.md section 8, "balances in the past"), each in one read-only snapshot.
#include <stdexcept>

#include "persistence/stored_money.hpp"
#include "persistence/transaction_queries.hpp"
#include "persistence/transaction_queries_internal.hpp"

namespace wallet::persistence {

using namespace query_internal;

std::optional<AccountRowsPage> account_rows(pqxx::connection& conn, const AccountRowsQuery& query) {
  Snapshot txn(conn);
  auto head = txn->exec_params(kAccountHead, query.account_id);
  if (head.empty()) return std::nullopt;
  AccountRowsPage page;
  page.user_id = head[0][0].c_str();
  page.currency = head[0][1].c_str();
  page.exponent = exponent_of(page.currency);
  const auto bounds = bounds_of(txn, query.account_id, query.range, query.before);
  if (bounds.below <= bounds.above + 1) return page;
  // One row more than asked tells whether another page follows.
  auto rows =
      txn->exec_params(kAccountRows, query.account_id, bounds.below, bounds.above, query.limit + 1);
  for (const auto& row : rows) {
    if (page.rows.size() == static_cast<size_t>(query.limit)) {
      page.next_before = rows[query.limit - 1][0].as<int64_t>();
      break;
    }
    page.rows.push_back(
        AccountRow{row[1].c_str(), row[2].c_str(), row[3].c_str(),
                   minor_units(row[4], page.exponent), minor_units(row[5], page.exponent),
                   minor_units(row[6], page.exponent), row[7].c_str(), row[8].c_str()});
  }
  return page;
}

std::optional<BalanceAt> balance_at(pqxx::connection& conn, const std::string& account_id,
                                    std::optional<int64_t> at_us) {
  Snapshot txn(conn);
  auto head = txn->exec_params(kAccountHead, account_id);
  if (head.empty()) return std::nullopt;
  BalanceAt answer;
  answer.currency = head[0][1].c_str();
  answer.exponent = exponent_of(answer.currency);
  if (!at_us) {
    answer.balance = minor_units(head[0][2], answer.exponent);
    answer.at = head[0][3].c_str();
    return answer;
  }
  answer.at = format_instant_us(*at_us);
  const int64_t seq = seq_at(txn, account_id, *at_us);
  if (seq == 0) return answer;  // before its first row
  auto row = txn->exec_params(kAccountRowBalance, account_id, seq);
  if (row.empty()) throw std::runtime_error("the row just found is gone from the snapshot");
  answer.balance = minor_units(row[0][0], answer.exponent);
  return answer;
}

}  // namespace wallet::persistence
