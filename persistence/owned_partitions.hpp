// The partitions of accounts as this instance sees them: PartitionOwner, a row of partition_owner
// as read back, and OwnedPartitions, the epochs this instance holds, which every ledger commit
// carries as its fence. Plain data and a lock, no I/O (partition_store.hpp reads and writes them).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "persistence/ledger_types.hpp"

namespace wallet::persistence {

struct PartitionOwner {
  int partition = 0;
  std::string owner;  // empty: never taken
  int64_t epoch = 0;
  std::string taken_at;  // RFC 3339, UTC; empty: never taken
};

// The partitions this instance holds and the epoch it took each at. Thread-safe: the ownership
// side writes it, the LedgerWriter's thread reads a claim from it for every commit.
class OwnedPartitions {
 public:
  OwnedPartitions(std::string instance_id, int partitions);

  const std::string& instance_id() const { return instance_id_; }
  int partitions() const { return partitions_; }

  void hold(int partition, int64_t epoch);
  // A revoked partition first leaves: no new work is accepted for it (owns() is false), while the
  // work already accepted still commits under its epoch (claim() keeps it); then it is dropped.
  void leave(int partition);
  void drop(int partition);
  bool owns(std::string_view user_id) const;
  bool owns_partition(int partition) const;
  // The epoch under which this instance serves `partition` now; nullopt when it does not serve it
  // (not held, or leaving).
  std::optional<int64_t> serving_epoch(int partition) const;
  std::vector<std::pair<int, int64_t>> held() const;
  // The partitions this instance accepts work for (held and not leaving).
  std::vector<int> serving() const;
  // The fence of the next commit: every partition held, with its epoch.
  OwnershipClaim claim() const;

  // The read lease (kafka ownership). An instance cut from Kafka's group coordinator may already
  // have lost its partitions to another instance without having heard of it; the fence stops its
  // writes, but its actors' memory would still answer reads. So reads come from memory only while
  // the lease holds: until an instant before which the group cannot have given this instance's
  // partitions away (PartitionOwnership renews it). Every revocation starts a new generation: a
  // read answered from memory counts only if the lease still holds at the answer, in the
  // generation it was admitted in. Without require_lease() (one instance) it always holds.
  struct Lease {
    bool held = true;
    uint64_t generation = 0;
  };
  void require_lease();
  void extend_lease(std::chrono::steady_clock::time_point until);
  // A revocation; `lost` (the group removed this member): the lease ends at once.
  void break_lease(bool lost);
  Lease lease() const;
  bool lease_kept(uint64_t generation) const;

 private:
  const std::string instance_id_;
  const int partitions_;
  mutable std::mutex mutex_;
  std::map<int, int64_t> epochs_;
  std::set<int> leaving_;
  std::atomic<bool> lease_required_{false};
  std::atomic<int64_t> lease_until_{0};  // steady_clock, nanoseconds since its epoch
  std::atomic<uint64_t> lease_generation_{0};
};

}  // namespace wallet::persistence
