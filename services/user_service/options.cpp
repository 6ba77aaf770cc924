// user-service's bridge options and metrics (options.hpp).
#include "services/user_service/options.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace wallet::services {

messaging::OutboxRelayOptions outbox_relay_options(const UserServiceConfig& config) {
  messaging::OutboxRelayOptions options;
  options.brokers = config.kafka_brokers;
  options.database_url = config.database_url;
  options.batch_size = static_cast<int>(config.outbox_batch);
  options.message_timeout_ms = static_cast<int>(config.kafka_message_timeout_ms);
  return options;
}

messaging::NatsRequesterOptions balance_requester_options(const UserServiceConfig& config,
                                                          http::Metrics& metrics) {
  messaging::NatsRequesterOptions options;
  options.url = config.nats_url;
  options.timeout = std::chrono::milliseconds(config.nats_request_timeout_ms);
  options.threads = static_cast<int>(config.nats_request_threads);
  options.on_result = [&metrics](const std::string& outcome, std::chrono::microseconds latency) {
    metrics.count("nats_requests_total", {{"outcome", outcome}});
    metrics.observe("nats_request_duration_seconds", {{"outcome", outcome}}, latency.count() / 1e6);
  };
  return options;
}

void register_bridge_metrics(http::Metrics& metrics, const messaging::OutboxRelay& relay) {
  metrics.gauge("outbox_pending_rows", "Outbox rows not yet acknowledged by Kafka", [&relay] {
    return std::vector<std::pair<http::Labels, double>>{{{}, static_cast<double>(relay.pending())}};
  });
  metrics.describe("nats_requests_total", "counter", "Balance requests over NATS by outcome");
  metrics.describe("nats_request_duration_seconds", "histogram",
                   "Latency of balance requests over NATS by outcome");
}

}  // namespace wallet::services
