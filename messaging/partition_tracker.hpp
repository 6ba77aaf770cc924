// PartitionTracker: the user-created consumer's rebalance handling and lag statistics. It is the
// consumer's RebalanceCb (assign/unassign, eager or cooperative), keeps per partition the position,
// the committed offset and the watermarks, refreshed from the consumer's thread, and renders them
// for status() from any thread without calling into librdkafka.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "messaging/kafka_support.hpp"

namespace wallet::messaging {

class PartitionTracker : public RdKafka::RebalanceCb {
 public:
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

  // After a synchronous commit of `offset` (the group resumes at offset + 1).
  void committed(int32_t partition, int64_t offset);
  // Consumer thread: copies positions, watermarks and (once per partition, when the broker is
  // reachable) the group's stored offsets.
  void refresh(RdKafka::KafkaConsumer& consumer, bool broker_reachable, int timeout_ms);
  // True once after a rebalance: the figures should be refreshed at once.
  bool take_refresh_due() { return refresh_due_.exchange(false); }

  struct Report {
    nlohmann::json assigned = nlohmann::json::array();
    nlohmann::json partitions = nlohmann::json::array();
    int64_t total_lag = 0;
  };
  Report report() const;

 private:
  struct State {
    int64_t position = -1;        // next offset the consumer will read
    int64_t committed = -1;       // next offset the group resumes from
    bool committed_read = false;  // the group's stored offset was asked for once
    int64_t low = -1;
    int64_t high = -1;
  };
  mutable std::mutex mutex_;
  std::map<int32_t, State> partitions_;
  std::atomic<bool> refresh_due_{false};
};

}  // namespace wallet::messaging
