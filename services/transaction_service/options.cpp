// transaction-service's configuration checks and the options it builds for its parts
// (options.hpp).
#include "services/transaction_service/options.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "domain/currency.hpp"

namespace wallet::services {

bool ledger_events_valid(const TransactionServiceConfig& config) {
  if (config.ledger_events != "on" && config.ledger_events != "off") {
    spdlog::critical("event=startup_failed cause=\"LEDGER_EVENTS must be on or off\"");
    return false;
  }
  return true;
}

bool set_currencies(const TransactionServiceConfig& config) {
  auto currencies = domain::Currencies::parse(config.currencies, config.default_currency);
  if (!currencies) {
    spdlog::critical("event=startup_failed cause=\"CURRENCIES/DEFAULT_CURRENCY: {}\"",
                     currencies.error().message);
    return false;
  }
  domain::set_configured_currencies(std::move(currencies.value()));
  return true;
}

std::optional<persistence::PostgresLedgerOptions> ledger_backend_options(
    const TransactionServiceConfig& config) {
  if (config.ledger_write_lanes < 1 || config.ledger_write_lanes > 32 ||
      config.ledger_max_batch < 1) {
    spdlog::critical(
        "event=startup_failed cause=\"LEDGER_WRITE_LANES must be 1 to 32 and LEDGER_MAX_BATCH at "
        "least 1\"");
    return std::nullopt;
  }
  persistence::PostgresLedgerOptions options;
  options.database_url = config.database_url;
  options.write_lanes = static_cast<size_t>(config.ledger_write_lanes);
  options.statement_timeout = std::chrono::milliseconds(config.ledger_statement_timeout_ms);
  options.idempotency_ttl = std::chrono::seconds(config.idempotency_ttl);
  return options;
}

messaging::LedgerEventRelayOptions ledger_event_relay_options(
    const TransactionServiceConfig& config) {
  messaging::LedgerEventRelayOptions options;
  options.brokers = config.kafka_brokers;
  options.topic = config.ledger_events_topic;
  options.database_url = config.database_url;
  options.linger = std::chrono::milliseconds(config.ledger_events_linger_ms);
  return options;
}

actors::LedgerOptions ledger_options(const TransactionServiceConfig& config,
                                     const persistence::PostgresLedgerOptions& backend,
                                     http::Metrics& metrics, messaging::LedgerEventRelay* events,
                                     const std::shared_ptr<persistence::OwnedPartitions>& owned) {
  actors::LedgerOptions options;
  options.idempotency_ttl = backend.idempotency_ttl;
  options.request_deadline = std::chrono::milliseconds(config.request_deadline_ms);
  options.max_batch = static_cast<size_t>(config.ledger_max_batch);
  options.idle_after = std::chrono::milliseconds(config.actor_idle_ms);
  options.max_in_flight = static_cast<size_t>(config.max_in_flight);
  options.on_commit = [&metrics, events](std::chrono::microseconds latency, size_t size) {
    metrics.observe("ledger_commit_seconds", {}, latency.count() / 1e6);
    metrics.count("ledger_batch_mutations_total", {}, static_cast<double>(size));
    if (events) events->wake();  // the commit wrote outbox rows
  };
  const std::string& ownership = config.partition_ownership;
  if (ownership == "kafka") options.owned = owned;
  // Across owners: the Ledger reaches the owners of a transaction's other payers through the
  // forwarding transport, filled in once it exists (no request arrives before the group assigns
  // partitions). Without an admin token the internal routes refuse everything: such transactions
  // are then refused (422 accounts_across_owners).
  if (ownership == "kafka" && !config.admin_token.empty()) {
    options.remote_holds = std::make_shared<actors::RemoteHolds>();
  }
  // One instance that owns everything still credits transfers left in transit by an earlier
  // run of several instances.
  if (ownership == "all") options.arrivals_for = owned;
  return options;
}

messaging::ConsumerOptions consumer_options(const TransactionServiceConfig& config) {
  messaging::ConsumerOptions options;
  options.brokers = config.kafka_brokers;
  options.topic = config.kafka_topic;
  options.dlq_topic = config.dlq_topic();
  options.group = config.kafka_group_id;
  return options;
}

}  // namespace wallet::services
