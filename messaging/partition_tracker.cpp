#include "messaging/partition_tracker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

namespace wallet::messaging {

void PartitionTracker::rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                                    std::vector<RdKafka::TopicPartition*>& changed) {
  const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
  std::string list;
  for (const auto* tp : changed)
    list += (list.empty() ? "" : ",") + std::to_string(tp->partition());
  RdKafka::Error* error = nullptr;
  RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    spdlog::info("event=kafka_rebalance kind=assign partitions=[{}]", list);
    if (cooperative) {
      error = c->incremental_assign(changed);
    } else {
      code = c->assign(changed);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!cooperative) partitions_.clear();
    for (const auto* tp : changed) partitions_[tp->partition()] = State{};
  } else {
    spdlog::info("event=kafka_rebalance kind=revoke partitions=[{}] reason=\"{}\"", list,
                 RdKafka::err2str(err));
    if (cooperative) {
      error = c->incremental_unassign(changed);
    } else {
      code = c->unassign();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto* tp : changed) partitions_.erase(tp->partition());
    if (!cooperative) partitions_.clear();
  }
  if (error) {
    spdlog::error("event=kafka_rebalance_failed cause=\"{}\"", error->str());
    delete error;
  } else if (code != RdKafka::ERR_NO_ERROR) {
    spdlog::error("event=kafka_rebalance_failed cause=\"{}\"", RdKafka::err2str(code));
  }
  refresh_due_ = true;  // refresh positions and committed offsets at once
}

void PartitionTracker::committed(int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = partitions_.find(partition);
  if (it != partitions_.end()) it->second.committed = offset + 1;
}

void PartitionTracker::refresh(RdKafka::KafkaConsumer& consumer, bool broker_reachable,
                               int timeout_ms) {
  std::vector<RdKafka::TopicPartition*> assigned;
  if (consumer.assignment(assigned) != RdKafka::ERR_NO_ERROR) return;
  consumer.position(assigned);
  std::vector<RdKafka::TopicPartition*> unknown;  // committed offset never read
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto* tp : assigned) {
      auto& p = partitions_[tp->partition()];
      if (!p.committed_read && p.committed < 0) unknown.push_back(tp);
    }
  }
  std::map<int32_t, int64_t> stored;
  if (!unknown.empty() && broker_reachable &&
      consumer.committed(unknown, timeout_ms) == RdKafka::ERR_NO_ERROR) {
    for (auto* tp : unknown) stored[tp->partition()] = tp->offset();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto* tp : assigned) {
    auto& p = partitions_[tp->partition()];
    p.position = tp->offset() >= 0 ? tp->offset() : -1;
    auto it = stored.find(tp->partition());
    if (it != stored.end()) {
      p.committed_read = true;  // OFFSET_INVALID (nothing committed yet) is an answer too
      if (it->second >= 0) p.committed = it->second;
    }
    // Cached from fetch responses: never a network round trip.
    consumer.get_watermark_offsets(tp->topic(), tp->partition(), &p.low, &p.high);
  }
  RdKafka::TopicPartition::destroy(assigned);
}

PartitionTracker::Report PartitionTracker::report() const {
  Report out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [partition, p] : partitions_) {
    out.assigned.push_back(partition);
    // Lag: what is in the partition beyond the group's committed position.
    const int64_t from = p.committed >= 0 ? p.committed : p.low;
    nlohmann::json lag = nullptr;
    if (p.high >= 0 && from >= 0) {
      lag = std::max<int64_t>(0, p.high - from);
      out.total_lag += lag.get<int64_t>();
    }
    out.partitions.push_back(
        {{"partition", partition},
         {"committed_offset", p.committed >= 0 ? nlohmann::json(p.committed) : nullptr},
         {"last_committed_offset", p.committed > 0 ? nlohmann::json(p.committed - 1) : nullptr},
         {"position", p.position >= 0 ? nlohmann::json(p.position) : nullptr},
         {"high_watermark", p.high >= 0 ? nlohmann::json(p.high) : nullptr},
         {"lag", lag}});
  }
  return out;
}

}  // namespace wallet::messaging
