#include "persistence/partition_store.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "persistence/connection.hpp"
#include "persistence/session.hpp"

namespace wallet::persistence {

int init_partitions(pqxx::connection& conn, int partitions) {
  pqxx::nontransaction txn(conn);
  return txn.exec_params1("SELECT partition_init($1)", partitions)[0].as<int>();
}

int64_t take_partition(pqxx::connection& conn, int partition, const std::string& instance_id) {
  pqxx::nontransaction txn(conn);
  return txn.exec_params1("SELECT partition_take($1, $2)", partition, instance_id)[0].as<int64_t>();
}

std::vector<PartitionOwner> list_partitions(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec(
      "SELECT partition, coalesce(owner, ''), epoch,"
      " coalesce(to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"
      " FROM partition_owner ORDER BY partition");
  std::vector<PartitionOwner> list;
  list.reserve(rows.size());
  for (const auto& row : rows) {
    list.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                    row[3].as<std::string>()});
  }
  return list;
}

namespace {

// Creates the partitions if needed; an error when the database holds another count.
std::optional<domain::Error> check_partition_count(pqxx::connection& conn,
                                                   const OwnedPartitions& owned) {
  const int existing = init_partitions(conn, owned.partitions());
  if (existing == owned.partitions()) return std::nullopt;
  return domain::Error{
      domain::ErrorCode::internal,
      "the database has " + std::to_string(existing) + " partitions but LEDGER_PARTITIONS is " +
          std::to_string(owned.partitions()) + " (the count is fixed when the cluster is created)"};
}

}  // namespace

domain::Result<int> ensure_partitions(const std::string& database_url,
                                      const OwnedPartitions& owned) {
  try {
    auto conn = connect(database_url, kBackgroundStatementTimeout);
    if (auto mismatch = check_partition_count(*conn, owned)) return *mismatch;
    return owned.partitions();
  } catch (const std::exception& e) {
    return database_error(e, "ensure_partitions");
  }
}

domain::Result<int> take_all_partitions(const std::string& database_url, OwnedPartitions& owned) {
  try {
    auto conn = connect(database_url, kBackgroundStatementTimeout);
    if (auto mismatch = check_partition_count(*conn, owned)) return *mismatch;
    for (int partition = 0; partition < owned.partitions(); ++partition) {
      const int64_t epoch = take_partition(*conn, partition, owned.instance_id());
      owned.hold(partition, epoch);
      spdlog::info("event=partition_taken partition={} epoch={} instance={}", partition, epoch,
                   owned.instance_id());
    }
    return owned.partitions();
  } catch (const std::exception& e) {
    return database_error(e, "take_all_partitions");
  }
}

}  // namespace wallet::persistence
