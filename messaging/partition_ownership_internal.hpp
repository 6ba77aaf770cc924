// Private to PartitionOwnership's files (messaging/partition_ownership.cpp,
// partition_rebalance.cpp, partition_lease.cpp): its state behind the pimpl, and the bounds they
// share. Nothing outside them includes it.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "messaging/kafka_support.hpp"
#include "messaging/partition_ownership.hpp"

namespace wallet::messaging {
namespace ownership_internal {

constexpr int kPollMs = 100;
constexpr std::chrono::seconds kRetryTakeEvery{1};
constexpr std::chrono::seconds kStartWait{60};
// librdkafka's statistics carry the member's group state, which readiness waits for.
constexpr int kStatsIntervalMs = 500;
constexpr std::chrono::milliseconds kSettleMargin{500};
// Lease commits in flight at most (a coordinator that does not answer holds them).
constexpr size_t kMaxLeaseCommits = 4;

// "1,2,3": partitions for a log line.
std::string list_text(const std::vector<int>& partitions);

}  // namespace ownership_internal

struct PartitionOwnership::Impl : public RdKafka::RebalanceCb, public RdKafka::EventCb {
  using Clock = std::chrono::steady_clock;
  explicit Impl(PartitionOwnershipOptions o) : options(std::move(o)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& changed) override;
  // Statistics (the group state) are read here; everything else goes to the health tracker.
  void event_cb(RdKafka::Event& event) override;
  void run();
  void retry_takes();
  bool serving();
  // The read lease (see the header): a commit every session_timeout / 6, and their results.
  void renew_lease();
  void read_lease_results();

  PartitionOwnershipOptions options;
  BrokerHealth health{"partition-ownership"};
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> rebalances{0}, takes_failed{0};
  mutable std::mutex mutex;
  std::set<int> assigned;  // by the group
  std::set<int> untaken;   // assigned, but the take failed: retried
  std::chrono::steady_clock::time_point last_retry;
  // Readiness (guarded by `mutex`): the last rebalance callback, whether an assignment came, the
  // group state of the last statistics and when they came, and whether it has settled once.
  Clock::time_point last_rebalance = Clock::now();
  bool assignment_seen = false;
  std::string group_state, join_state;
  Clock::time_point stats_at;
  bool settled = false;
  Clock::time_point started_at = Clock::now();
  // The read lease (used by the polling thread only): commits in flight by their opaque number,
  // with the instant each was sent.
  rd_kafka_queue_t* lease_queue = nullptr;
  uintptr_t next_lease_commit = 1;
  std::map<uintptr_t, Clock::time_point> lease_commits;
  Clock::time_point last_lease_commit;
  bool lease_failing = false;
};

}  // namespace wallet::messaging
