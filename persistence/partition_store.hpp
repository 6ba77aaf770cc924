// Ownership of account partitions in Postgres (schema/transaction_service/006_partition_owner.sql):
// creating the partitions, taking one (which bumps its epoch), listing them; and OwnedPartitions,
// the epochs this instance holds, which every ledger commit carries as its fence.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/result.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::persistence {

struct PartitionOwner {
  int partition = 0;
  std::string owner;  // empty: never taken
  int64_t epoch = 0;
  std::string taken_at;  // RFC 3339, UTC; empty: never taken
};

// Creates partitions 0..partitions-1 if there are none yet; returns how many exist (another count
// means the cluster was created with another P). Throws libpqxx exceptions.
int init_partitions(pqxx::connection& conn, int partitions);
// Takes `partition` for `instance_id`; returns its new epoch. Throws libpqxx exceptions.
int64_t take_partition(pqxx::connection& conn, int partition, const std::string& instance_id);
// Every partition, in order. Throws libpqxx exceptions.
std::vector<PartitionOwner> list_partitions(pqxx::connection& conn);

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

// Single-instance ownership: creates the partitions if needed and takes every one of them (each
// epoch bumped, so any former holder is fenced out). Fails when the database holds another
// partition count than `owned.partitions()`, or cannot be reached. Returns how many it took.
domain::Result<int> take_all_partitions(const std::string& database_url, OwnedPartitions& owned);
// For kafka ownership: creates the partitions if needed and checks their count; takes none.
domain::Result<int> ensure_partitions(const std::string& database_url,
                                      const OwnedPartitions& owned);

}  // namespace wallet::persistence
