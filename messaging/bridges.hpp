// The bridge interfaces the services wire up. Implementations live next to this file; each bridge
// is an actor (detached, since librdkafka and cnats calls block) behind a small facade.
#pragma once

#include <caf/all.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/contract.hpp"
#include "domain/result.hpp"

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

// transaction-service: answers `wallet.balance.get` in queue group `transaction-service`.
using BalanceLookup =
    std::function<void(const std::string& user_id, std::function<void(domain::Result<int64_t>)>)>;

class BalanceResponder {
 public:
  // `subject` is the contract's `wallet.balance.get` except for test instances that must not answer
  // the stack's requests.
  BalanceResponder(caf::actor_system& system, std::string nats_url, BalanceLookup lookup,
                   std::string subject = domain::kBalanceSubject);
  ~BalanceResponder();
  void stop();
  bool healthy() const;           // connected to NATS
  nlohmann::json status() const;  // connection state, requests answered, errors

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
