// PartitionOwnership's rebalance callbacks, on its polling thread: partitions assigned are taken
// (their epochs bumped in Postgres) and served, partitions revoked or lost are given up before the
// revocation is acknowledged, and failed takes are retried while still assigned.
#include <spdlog/spdlog.h>

#include "messaging/partition_ownership_internal.hpp"

namespace wallet::messaging {

using namespace ownership_internal;

void PartitionOwnership::Impl::rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                                            std::vector<RdKafka::TopicPartition*>& changed) {
  std::vector<int> partitions;
  for (const auto* tp : changed) partitions.push_back(tp->partition());
  const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
  ++rebalances;
  {
    std::lock_guard<std::mutex> lock(mutex);
    last_rebalance = Impl::Clock::now();
  }
  RdKafka::Error* error = nullptr;
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    spdlog::info("event=ownership_assigned partitions=[{}] instance={}", list_text(partitions),
                 options.instance_id);
    error = cooperative ? c->incremental_assign(changed) : nullptr;
    if (!cooperative) c->assign(changed);
    const bool taken = options.take(partitions);
    std::lock_guard<std::mutex> lock(mutex);
    assignment_seen = true;
    last_rebalance = Impl::Clock::now();  // after the takes: the quiet time starts now
    for (int p : partitions) {
      assigned.insert(p);
      if (!taken) untaken.insert(p);
    }
    if (!taken) ++takes_failed;
  } else {
    spdlog::info("event=ownership_revoked partitions=[{}] lost={} instance={}",
                 list_text(partitions), c->assignment_lost(), options.instance_id);
    if (options.lease_broken) options.lease_broken(c->assignment_lost());
    // Drain and drop before acknowledging: the next owner takes them after this returns.
    options.give_up(partitions);
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (int p : partitions) {
        assigned.erase(p);
        untaken.erase(p);
      }
    }
    if (cooperative) {
      error = c->incremental_unassign(changed);
    } else {
      c->unassign();
    }
  }
  if (error) {
    spdlog::error("event=ownership_rebalance_failed cause=\"{}\"", error->str());
    delete error;
  }
}

void PartitionOwnership::Impl::retry_takes() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_retry < kRetryTakeEvery) return;
  last_retry = now;
  std::vector<int> retry;
  {
    std::lock_guard<std::mutex> lock(mutex);
    retry.assign(untaken.begin(), untaken.end());
  }
  if (retry.empty() || !options.take(retry)) return;
  std::lock_guard<std::mutex> lock(mutex);
  for (int p : retry) untaken.erase(p);
}

}  // namespace wallet::messaging
