#include "persistence/partition_store.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "domain/partitioning.hpp"
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

OwnedPartitions::OwnedPartitions(std::string instance_id, int partitions)
    : instance_id_(std::move(instance_id)), partitions_(partitions) {}

void OwnedPartitions::hold(int partition, int64_t epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  epochs_[partition] = epoch;
  leaving_.erase(partition);
}

void OwnedPartitions::leave(int partition) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (epochs_.count(partition) > 0) leaving_.insert(partition);
}

void OwnedPartitions::drop(int partition) {
  std::lock_guard<std::mutex> lock(mutex_);
  epochs_.erase(partition);
  leaving_.erase(partition);
}

bool OwnedPartitions::owns(std::string_view user_id) const {
  return owns_partition(domain::partition_of(user_id, partitions_));
}

bool OwnedPartitions::owns_partition(int partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return epochs_.count(partition) > 0 && leaving_.count(partition) == 0;
}

std::optional<int64_t> OwnedPartitions::serving_epoch(int partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = epochs_.find(partition);
  if (it == epochs_.end() || leaving_.count(partition) > 0) return std::nullopt;
  return it->second;
}

std::vector<std::pair<int, int64_t>> OwnedPartitions::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {epochs_.begin(), epochs_.end()};
}

std::vector<int> OwnedPartitions::serving() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int> list;
  for (const auto& [partition, epoch] : epochs_) {
    if (leaving_.count(partition) == 0) list.push_back(partition);
  }
  return list;
}

OwnershipClaim OwnedPartitions::claim() const { return {instance_id_, held()}; }

void OwnedPartitions::require_lease() { lease_required_ = true; }

void OwnedPartitions::extend_lease(std::chrono::steady_clock::time_point until) {
  const int64_t wanted = until.time_since_epoch().count();
  int64_t current = lease_until_.load();
  while (current < wanted && !lease_until_.compare_exchange_weak(current, wanted)) {
  }
}

void OwnedPartitions::break_lease(bool lost) {
  ++lease_generation_;
  if (lost) lease_until_ = 0;
}

OwnedPartitions::Lease OwnedPartitions::lease() const {
  const uint64_t generation = lease_generation_.load();
  if (!lease_required_.load()) return {true, generation};
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  return {now < lease_until_.load(), generation};
}

bool OwnedPartitions::lease_kept(uint64_t generation) const {
  const Lease now = lease();
  return now.held && now.generation == generation;
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
