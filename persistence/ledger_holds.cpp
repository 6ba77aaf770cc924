// Hold reads: one hold by id, and the pending holds past their expiry for the sweeper.
#include <string>

#include "persistence/connection.hpp"
#include "persistence/hold_rows.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"

namespace wallet::persistence {

HoldRecord hold_from_row(const pqxx::row& row) {
  HoldRecord hold;
  hold.hold_id = row[0].as<std::string>();
  hold.from_user_id = row[1].as<std::string>();
  hold.to_user_id = row[2].as<std::string>();
  hold.currency = row[9].as<std::string>();
  hold.exponent = exponent_of(hold.currency);
  hold.amount = minor_units(row[3], hold.exponent);
  hold.status = row[4].as<std::string>();
  hold.expires_at_ms = row[5].as<int64_t>();
  hold.transfer_id = row[6].as<std::string>();
  hold.captured_amount = minor_units(row[7], hold.exponent);
  hold.created_at = row[8].as<std::string>();
  hold.from_owner = row[10].as<std::string>();
  hold.to_owner = row[11].as<std::string>("");
  hold.transaction_id = row[12].as<std::string>();
  hold.posting = row[13].as<int>();
  return hold;
}

std::optional<HoldRecord> load_hold(pqxx::connection& conn, const std::string& hold_id) {
  pqxx::nontransaction txn(conn);
  auto rows =
      txn.exec_params("SELECT " + kHoldColumns + kHoldsWithPayer + "WHERE h.hold_id = $1", hold_id);
  if (rows.empty()) return std::nullopt;
  return hold_from_row(rows[0]);
}

ExpirySweep sweep_overdue_holds(pqxx::connection& conn, int limit, const OwnedPartitions* only) {
  pqxx::nontransaction txn(conn);
  ExpirySweep sweep;
  const std::string overdue = "SELECT " + kHoldColumns + kHoldsWithPayer +
                              "WHERE h.status = 'pending' AND h.expires_at <= now()";
  pqxx::result rows;
  if (!only) {
    rows = txn.exec_params(overdue + " ORDER BY h.expires_at LIMIT $1", limit);
  } else {
    const auto serving = only->serving();
    rows =
        txn.exec_params(overdue +
                            " AND ledger_partition_of(h.from_user_id, $2) = ANY ($3::bigint[])"
                            " ORDER BY h.expires_at LIMIT $1",
                        limit, only->partitions(),
                        bigint_array_literal(std::vector<int64_t>(serving.begin(), serving.end())));
  }
  for (const auto& row : rows) sweep.overdue.push_back(hold_from_row(row));
  sweep.pending =
      txn.exec("SELECT count(*) FROM holds WHERE status = 'pending'")[0][0].as<int64_t>();
  return sweep;
}

}  // namespace wallet::persistence
