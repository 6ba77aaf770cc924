// PartitionOwnership (beyond one machine, SPEC.md section 7): which ledger partitions this
// transaction-service instance owns, decided by Kafka's group protocol. The topic
// `ledger-partitions` has one Kafka partition per ledger partition and carries no messages; every
// instance joins one consumer group on it (cooperative-sticky assignor, static membership with
// group.instance.id = INSTANCE_ID), and the partitions the group assigns to an instance are the
// ones it owns.
//
// A dedicated thread polls the consumer; the rebalance callbacks run on it and may block:
// - assigned: `take(partitions)` bumps their epochs in Postgres (the fence) and starts serving
//   them; partitions it could not take are tried again every second while still assigned;
// - revoked (or lost, after a session timeout): `give_up(partitions)` stops accepting work for
//   them, drains, and drops them, before the revocation is acknowledged to the group.
// A paused member (SIGSTOP) stops heartbeating: after session.timeout.ms the group gives its
// partitions to others, whose takes fence every commit it may still attempt.
//
// Serving (readiness): an instance is ready once its assignment has settled, i.e. it has had an
// assignment, every partition assigned is taken, librdkafka reports the member steady in the
// group (statistics: cgrp state "up", join state "steady") and no rebalance callback came for
// `settle_quiet`. The quiet time matters: with the cooperative protocol a newcomer is first given
// nothing while the others revoke, and hears of the second round only at its next heartbeat.
// After that first settling it stays ready while its takes succeed: a later rebalance moves a few
// partitions (their requests get a retryable 503 partition_moved meanwhile), and every instance
// turning unready at once during it would leave a load balancer with no endpoint at all.
//
// The read lease: a member cut from the group coordinator keeps its partitions in its own view
// until it hears of the loss, but the coordinator gives them away once the session timeout has
// passed since it last heard of the member. So the thread commits (offset 0 of the partitions it
// holds; the topic carries no messages) every session_timeout / 6: the coordinator accepts a
// commit only from a member of the current generation, and each accepted commit restarts the
// member's session there. A commit sent at t and accepted proves that no other member can be
// given these partitions before t + session_timeout; `lease_renewed` hears t + 3/4 of it.
// `lease_broken` hears of every revocation (lost: the group removed this member).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wallet::messaging {

struct PartitionOwnershipOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "ledger-partitions";
  std::string group = "wallet-ledger-owners";
  std::string instance_id;  // group.instance.id (static membership)
  int partitions = 12;      // the topic is created with this many; another count is refused
  int replication = 1;      // replication factor when this instance creates the topic
  std::chrono::milliseconds session_timeout{6'000};
  // No rebalance for this long (and the member steady) before the assignment counts as settled;
  // zero: the heartbeat interval (session_timeout / 4) plus 500 ms.
  std::chrono::milliseconds settle_quiet{0};
  // take: true when every partition was taken. give_up: returns when they are dropped.
  std::function<bool(const std::vector<int>&)> take;
  std::function<void(const std::vector<int>&)> give_up;
  std::function<void(std::chrono::steady_clock::time_point)> lease_renewed;  // may be empty
  std::function<void(bool lost)> lease_broken;                               // may be empty
};

class PartitionOwnership {
 public:
  explicit PartitionOwnership(PartitionOwnershipOptions options);
  ~PartitionOwnership();
  PartitionOwnership(const PartitionOwnership&) = delete;
  PartitionOwnership& operator=(const PartitionOwnership&) = delete;

  // Creates the topic if needed, checks its partition count, joins the group. Waits up to 60 s for
  // Kafka to answer. False (logged) when the configuration is refused, Kafka does not answer, or
  // the topic has another partition count (the supervisor restarts the process).
  bool start();
  // Closes the consumer: the partitions are given up (drained) first. A static member stays in the
  // group until its session times out (then the others take them), or until it comes back.
  void stop();
  bool healthy() const;
  // True once the assignment has settled and every assigned partition is taken (see the top).
  bool serving() const;
  nlohmann::json status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
