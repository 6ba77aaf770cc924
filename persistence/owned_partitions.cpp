#include "persistence/owned_partitions.hpp"

#include "domain/partitioning.hpp"

namespace wallet::persistence {

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

}  // namespace wallet::persistence
