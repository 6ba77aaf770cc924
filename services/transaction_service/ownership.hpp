// transaction-service's partition ownership (SPEC.md section 7): which partitions this instance
// claims at start (PARTITION_OWNERSHIP), and with `kafka` the group that assigns them and the
// forwarding over NATS between their owners.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "actors/ledger.hpp"
#include "http/forwarding.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "messaging/partition_ownership.hpp"
#include "messaging/partition_requests.hpp"
#include "persistence/partition_store.hpp"
#include "services/common/service_config.hpp"

namespace wallet::services {

// Accounts hash to LEDGER_PARTITIONS partitions (fixed when the cluster is created).
// PARTITION_OWNERSHIP=all: this instance takes them all now, which fences out any former holder,
// and every commit carries the epochs taken here. kafka: none yet (the group assigns them after
// start), but they must exist with this count. shared: none, and commits go unfenced (several
// instances on one database, guarded by Postgres alone). Null (after logging why) when either
// setting is out of range or Postgres refused.
std::shared_ptr<persistence::OwnedPartitions> claim_partitions(
    const TransactionServiceConfig& config);

// PARTITION_OWNERSHIP=kafka: the group assigns partitions; requests for partitions served
// elsewhere go to their owner over NATS, and requests for ours come in the same way. Built before
// the routes (they route through routing()); joins the group only at start().
class KafkaOwnership {
 public:
  // Fills in `remote_holds` when set (it is with an ADMIN_TOKEN: the owners' internal routes).
  KafkaOwnership(const TransactionServiceConfig& config,
                 std::shared_ptr<persistence::OwnedPartitions> owned, actors::Ledger& ledger,
                 http::Metrics& metrics, const std::shared_ptr<actors::RemoteHolds>& remote_holds);
  KafkaOwnership(const KafkaOwnership&) = delete;
  KafkaOwnership& operator=(const KafkaOwnership&) = delete;

  // The routes forwarded requests run through: a copy of the server's once complete (nothing is
  // forwarded here before the group assigns partitions, after start()).
  void serve_routes(const http::Router& routes) { served_routes_ = routes; }
  const std::shared_ptr<http::OwnerRouting>& routing() const { return routing_; }
  // Joins the group: call once this instance can answer forwarded requests. False (logged) when
  // Kafka refused or did not answer.
  bool start() { return group_->start(); }
  // Gives the partitions up (drained) and closes the group consumer; with static membership the
  // others take them after the session timeout, or this instance gets them back if it restarts
  // within it. Then stops answering forwarded requests.
  void stop();
  // Readiness: the assignment has settled and this instance serves what it was assigned.
  bool serving() const { return group_->serving(); }
  nlohmann::json group_status() const { return group_->status(); }
  nlohmann::json requests_status() const { return requests_->status(); }

 private:
  // Destroyed in reverse: the group (which calls into the requests) first.
  http::Router served_routes_;
  std::shared_ptr<http::OwnerRouting> routing_;
  std::unique_ptr<messaging::PartitionRequests> requests_;
  std::unique_ptr<messaging::PartitionOwnership> group_;
};

}  // namespace wallet::services
