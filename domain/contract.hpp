// Names of the messaging contract (SPEC.md sections 3 and 4), the one place they are spelled:
// both services, their configuration defaults and the tests take them from here.
#pragma once

namespace wallet::domain {

inline constexpr const char* kUserCreatedTopic = "user-created";
inline constexpr const char* kUserCreatedDlqTopic = "user-created.dlq";
// transaction-service's Kafka consumer group and its NATS queue group share the service's name.
inline constexpr const char* kUserCreatedConsumerGroup = "transaction-service";
inline constexpr const char* kBalanceSubject = "wallet.balance.get";
inline constexpr const char* kBalanceQueueGroup = "transaction-service";

}  // namespace wallet::domain
