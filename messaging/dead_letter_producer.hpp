// DeadLetterProducer: the user-created consumer's dead-letter side, an idempotent Kafka producer
// (acks=all) that copies a poison record to the DLQ topic with the reason and its source position
// as headers. One attempt per call; the consumer owns the retry loop (it must stay stoppable).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "messaging/kafka_support.hpp"

namespace wallet::messaging {

class DeadLetterProducer {
 public:
  DeadLetterProducer(std::string brokers, std::string topic);
  ~DeadLetterProducer();

  // Creates the producer; false (logged) when librdkafka refuses the configuration.
  bool start();
  // Produces `source` with the headers reason, source_topic, source_partition, source_offset and
  // waits for its delivery report. Empty on success, else the cause.
  std::string send(const RdKafka::Message& source, const std::string& reason);
  void flush(int timeout_ms);
  const std::string& topic() const { return topic_; }

 private:
  const std::string brokers_;
  const std::string topic_;
  BrokerHealth health_{"user-created-dlq"};
  DeliveryTracker reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  uint64_t sequence_ = 0;
};

}  // namespace wallet::messaging
