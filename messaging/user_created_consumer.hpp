// UserCreatedConsumer: transaction-service's bridge from `user-created` to the ledger (a detached
// actor on the DetachedBridge scaffold; implementation in user_created_consumer.cpp).
#pragma once

#include <caf/all.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/contract.hpp"

namespace wallet::actors {
class Ledger;
}

namespace wallet::messaging {

// transaction-service: consumes `user-created`, opens accounts through actors::Ledger (idempotent),
// commits the offset only after the account row is committed, sends poison events to the DLQ.
struct ConsumerOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = domain::kUserCreatedTopic;
  std::string dlq_topic = domain::kUserCreatedDlqTopic;
  std::string group = domain::kUserCreatedConsumerGroup;
};

class UserCreatedConsumer {
 public:
  // Accounts are opened through `ledger` (which must outlive the consumer).
  UserCreatedConsumer(caf::actor_system& system, ConsumerOptions options, actors::Ledger& ledger);
  ~UserCreatedConsumer();
  void stop();
  bool healthy() const;           // the broker answered recently
  nlohmann::json status() const;  // assigned partitions, lag, last offsets, counters

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
