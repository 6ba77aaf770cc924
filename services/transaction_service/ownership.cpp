// transaction-service's partition ownership (ownership.hpp): the claim at start and, with
// PARTITION_OWNERSHIP=kafka, the group and the forwarding between owners.
#include "services/transaction_service/ownership.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "http/transaction_holds_api.hpp"
#include "messaging/nats_requester.hpp"

namespace wallet::services {

namespace {

// A forwarded money request is answered within its deadline plus this (scheduling, the hop).
constexpr std::chrono::milliseconds kAnswerSlack{500};

// INSTANCE_ID, or by default "<hostname>:<HTTP_PORT>": stable across restarts of the same
// deployment (which static group membership will rely on), distinct between instances of a host.
std::string instance_id(const TransactionServiceConfig& config) {
  if (!config.instance_id.empty()) return config.instance_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(config.http_port);
}

messaging::NatsRequesterOptions forward_options(const TransactionServiceConfig& config,
                                                http::Metrics& metrics) {
  messaging::NatsRequesterOptions options;
  options.url = config.nats_url;
  options.timeout = std::chrono::milliseconds(config.forward_timeout_ms);
  options.threads = static_cast<int>(config.forward_threads);
  options.max_queue = static_cast<size_t>(config.max_in_flight);
  options.on_result = [&metrics](const std::string& outcome, std::chrono::microseconds latency) {
    metrics.count("wallet_forwarded_requests_total", {{"outcome", outcome}});
    metrics.observe("wallet_forward_seconds", {}, latency.count() / 1e6);
  };
  return options;
}

}  // namespace

std::shared_ptr<persistence::OwnedPartitions> claim_partitions(
    const TransactionServiceConfig& config) {
  const std::string& ownership = config.partition_ownership;
  const int64_t partitions = config.ledger_partitions;
  if (ownership != "all" && ownership != "shared" && ownership != "kafka") {
    spdlog::critical(
        "event=startup_failed cause=\"PARTITION_OWNERSHIP must be all, kafka or shared\"");
    return nullptr;
  }
  if (partitions < 1 || partitions > 4096) {
    spdlog::critical("event=startup_failed cause=\"LEDGER_PARTITIONS must be 1..4096\"");
    return nullptr;
  }
  auto owned = std::make_shared<persistence::OwnedPartitions>(instance_id(config),
                                                              static_cast<int>(partitions));
  if (ownership == "all") {
    if (auto taken = persistence::take_all_partitions(config.database_url, *owned); !taken) {
      spdlog::critical("event=startup_failed cause=\"{}\"", taken.error().message);
      return nullptr;
    }
  } else if (ownership == "kafka") {
    // The partitions come from the group later; they must exist, with this count.
    if (auto created = persistence::ensure_partitions(config.database_url, *owned); !created) {
      spdlog::critical("event=startup_failed cause=\"{}\"", created.error().message);
      return nullptr;
    }
  }
  spdlog::info("event=ownership mode={} instance={} partitions={} held={}", ownership,
               owned->instance_id(), partitions, owned->held().size());
  return owned;
}

KafkaOwnership::KafkaOwnership(const TransactionServiceConfig& config,
                               std::shared_ptr<persistence::OwnedPartitions> owned,
                               actors::Ledger& ledger, http::Metrics& metrics,
                               const std::shared_ptr<actors::RemoteHolds>& remote_holds) {
  requests_ = std::make_unique<messaging::PartitionRequests>(
      config.nats_ledger_subject,
      [this](std::string payload, std::function<void(std::string)> reply) {
        routing_->serve(served_routes_, payload, std::move(reply));
      },
      forward_options(config, metrics));
  http::SendToOwner send_to_owner = [requests = requests_.get()](
                                        int partition, std::string payload,
                                        std::function<void(domain::Result<std::string>)> done,
                                        std::chrono::milliseconds within) {
    requests->forward(partition, std::move(payload), std::move(done), within);
  };
  const std::chrono::milliseconds request_deadline(config.request_deadline_ms);
  routing_ = std::make_shared<http::OwnerRouting>(owned, send_to_owner, &metrics,
                                                  request_deadline + kAnswerSlack);
  if (remote_holds) {
    *remote_holds = http::remote_holds_over(send_to_owner, owned, config.admin_token);
  }
  messaging::PartitionOwnershipOptions group_options;
  group_options.brokers = config.kafka_brokers;
  group_options.topic = config.ownership_topic;
  group_options.group = config.ownership_group;
  group_options.instance_id = owned->instance_id();
  group_options.partitions = static_cast<int>(config.ledger_partitions);
  group_options.replication = static_cast<int>(config.ownership_replication);
  group_options.session_timeout = std::chrono::milliseconds(config.ownership_session_timeout_ms);
  group_options.take = [&ledger, requests = requests_.get()](const std::vector<int>& taken) {
    if (!ledger.take_partitions(taken)) return false;
    for (int partition : taken) requests->serve(partition);
    return true;
  };
  group_options.give_up = [&ledger, requests = requests_.get(),
                           drain = request_deadline](const std::vector<int>& given) {
    requests->stop_serving(given);
    ledger.give_up_partitions(given, drain);
  };
  // Reads come from the actors' memory only while the group confirms this membership.
  owned->require_lease();
  group_options.lease_renewed = [owned](std::chrono::steady_clock::time_point until) {
    owned->extend_lease(until);
  };
  group_options.lease_broken = [owned](bool lost) { owned->break_lease(lost); };
  group_ = std::make_unique<messaging::PartitionOwnership>(group_options);
}

void KafkaOwnership::stop() {
  group_->stop();
  requests_->stop();
}

}  // namespace wallet::services
