// What spans owners: the decision of a transaction across owners (read, or taken as abort when
// none) and its holds due (migration 012), and the transfers in transit between owners.
#include <algorithm>

#include "domain/currency.hpp"
#include "persistence/connection.hpp"
#include "persistence/hold_rows.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {

TransactionDecision decide_transaction(pqxx::connection& conn, const std::string& transaction_id,
                                       bool abort_if_none) {
  pqxx::work txn(conn);
  if (abort_if_none) {
    txn.exec_params(
        "INSERT INTO transaction_decisions (transaction_id, outcome) VALUES ($1, 'abort')"
        " ON CONFLICT (transaction_id) DO NOTHING",
        transaction_id);
  }
  auto rows = txn.exec_params("SELECT outcome FROM transaction_decisions WHERE transaction_id = $1",
                              transaction_id);
  txn.commit();
  if (rows.empty()) return TransactionDecision::none;
  return rows[0][0].as<std::string>() == "commit" ? TransactionDecision::commit
                                                  : TransactionDecision::abort;
}

std::vector<HoldRecord> transaction_holds_due(pqxx::connection& conn,
                                              const std::vector<int>& partitions,
                                              int partition_count, int64_t placed_before_ms,
                                              int limit) {
  pqxx::nontransaction txn(conn);
  const std::string due = "SELECT " + kHoldColumns + kHoldsWithPayer +
                          "WHERE h.status = 'pending' AND h.transaction_id IS NOT NULL"
                          " AND h.created_at < to_timestamp($1::double precision / 1000)";
  pqxx::result rows;
  if (partitions.empty()) {
    rows = txn.exec_params(due + " ORDER BY h.created_at LIMIT $2", placed_before_ms, limit);
  } else {
    rows = txn.exec_params(
        due +
            " AND ledger_partition_of(h.from_user_id, $3) = ANY ($4::bigint[])"
            " ORDER BY h.created_at LIMIT $2",
        placed_before_ms, limit, partition_count,
        bigint_array_literal(std::vector<int64_t>(partitions.begin(), partitions.end())));
  }
  std::vector<HoldRecord> holds;
  for (const auto& row : rows) holds.push_back(hold_from_row(row));
  return holds;
}

namespace {

InTransit in_transit_row(const pqxx::row& row) {
  InTransit leg;
  leg.transfer_id = row[0].c_str();
  leg.from_user_id = row[1].c_str();
  leg.to_user_id = row[2].c_str();
  leg.exponent = exponent_of(row[6].as<std::string>());
  leg.amount = minor_units(row[3], leg.exponent);
  leg.to_partition = row[4].as<int>();
  leg.created_at = row[5].c_str();
  leg.transaction_id = row[7].c_str();
  leg.posting = row[8].as<int>();
  return leg;
}

const std::string kInTransitColumns =
    std::string(
        "SELECT m.transfer_id::text, m.from_user_id::text, m.to_user_id::text, m.amount::text,"
        " m.to_partition, to_char(m.created_at AT TIME ZONE 'UTC', '") +
    kRfc3339 +
    "'), a.currency, coalesce(m.transaction_id::text, ''), coalesce(m.posting, -1)"
    " FROM transfers_in_transit m JOIN accounts a ON a.account_id = m.from_user_id ";

}  // namespace

std::vector<InTransit> in_transit_for(pqxx::connection& conn, const std::vector<int>& partitions,
                                      int limit) {
  std::vector<InTransit> legs;
  if (partitions.empty()) return legs;
  std::vector<int64_t> wanted(partitions.begin(), partitions.end());
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec_params(kInTransitColumns +
                                  "WHERE m.to_partition = ANY ($1::bigint[]) "
                                  "ORDER BY m.created_at LIMIT $2",
                              bigint_array_literal(wanted), limit);
  legs.reserve(rows.size());
  for (const auto& row : rows) legs.push_back(in_transit_row(row));
  return legs;
}

InTransitSummary in_transit_summary(pqxx::connection& conn, int limit) {
  InTransitSummary summary;
  pqxx::read_transaction txn(conn);  // one snapshot: the total and the rows agree
  // Totals per currency (money of two currencies is never added together); `total` is the
  // default currency's.
  auto totals = txn.exec(
      "SELECT a.currency, count(*), sum(m.amount)::text,"
      " (extract(epoch FROM now() - min(m.created_at)) * 1000)::bigint"
      " FROM transfers_in_transit m JOIN accounts a ON a.account_id = m.from_user_id"
      " GROUP BY a.currency");
  const auto& fallback = domain::configured_currencies().default_currency();
  for (const auto& row : totals) {
    const auto code = row[0].as<std::string>();
    const int exponent = exponent_of(code);
    const int64_t total = minor_units(row[2], exponent);
    summary.by_currency.push_back({code, exponent, total});
    summary.count += row[1].as<int64_t>();
    summary.oldest_age_ms = std::max(summary.oldest_age_ms, row[3].as<int64_t>());
    if (code == fallback.code) summary.total = total;
  }
  auto rows = txn.exec_params(kInTransitColumns + "ORDER BY m.created_at LIMIT $1", limit);
  for (const auto& row : rows) summary.oldest.push_back(in_transit_row(row));
  return summary;
}

}  // namespace wallet::persistence
