// transaction-service's own metrics (ledger_metrics.hpp): gauges read from the Ledger, the
// ledger-events relay and the user-created consumer when scraped.
#include "services/transaction_service/ledger_metrics.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "domain/contract.hpp"
#include "domain/currency.hpp"

namespace wallet::services {

namespace {

using Gauge = std::function<void(const char* name, const char* help, std::function<double()>)>;

// Actors, holds, and the ownership fence.
void register_actor_metrics(const Gauge& gauge, actors::Ledger& ledger) {
  const auto& g = ledger.gauges();
  gauge("ledger_operations_in_flight", "Operations accepted and not yet answered",
        [&ledger] { return static_cast<double>(ledger.in_flight()); });
  gauge("ledger_live_actors", "Live account actors (published by the registry every second)",
        [&g] { return static_cast<double>(g.live_actors.load()); });
  gauge("ledger_actors_spawned", "Account actors spawned since start",
        [&g] { return static_cast<double>(g.actors_spawned.load()); });
  gauge("ledger_actors_retired", "Account actors retired when idle since start",
        [&g] { return static_cast<double>(g.actors_retired.load()); });
  gauge("ledger_registry_mailbox_depth", "Messages waiting in the account registry's mailbox",
        [&g] { return static_cast<double>(g.registry_mailbox.load()); });
  gauge("ledger_writer_mailbox_depth", "Messages waiting in the ledger writer's mailbox",
        [&g] { return static_cast<double>(g.writer_mailbox.load()); });
  // Holds.
  gauge("ledger_holds_pending", "Holds pending in the database (published by the expiry sweeper)",
        [&g] { return static_cast<double>(g.holds_pending.load()); });
  gauge("ledger_holds_created_total", "Holds created since start",
        [&g] { return static_cast<double>(g.holds_created.load()); });
  gauge("ledger_holds_captured_total", "Holds captured since start",
        [&g] { return static_cast<double>(g.holds_captured.load()); });
  gauge("ledger_holds_voided_total", "Holds voided since start",
        [&g] { return static_cast<double>(g.holds_voided.load()); });
  gauge("ledger_holds_expired_total", "Holds that expired by themselves since start",
        [&g] { return static_cast<double>(g.holds_expired.load()); });
  gauge("ledger_idempotency_keys_taken_total",
        "Operations run under a key this instance did not remember whose commit found an outcome "
        "stored under it (an earlier run's, another instance's): answered that outcome, nothing "
        "written",
        [&g] { return static_cast<double>(g.keys_taken.load()); });
  // Beyond one machine.
  gauge("ledger_commits_fenced_total",
        "Ledger batches refused by the ownership fence (a partition this instance claimed had "
        "moved to another instance) since start",
        [&g] { return static_cast<double>(g.commits_fenced.load()); });
}

// Beyond one machine: transfers across owners debited and not yet credited.
void register_in_transit_metrics(http::Metrics& metrics, const Gauge& gauge,
                                 const actors::LedgerGauges& g) {
  gauge("wallet_in_transit_amount",
        "Money of transfers across owners debited and not yet credited, ledger-wide, in currency "
        "units of the default currency (read from Postgres every 250 ms; the exact decimal is GET "
        "/admin/in-transit; every currency's: wallet_in_transit_amount_by_currency)",
        [&g] {
          const int exponent = domain::configured_currencies().default_currency().exponent;
          return static_cast<double>(g.in_transit_amount.load()) /
                 static_cast<double>(domain::pow10(exponent));
        });
  metrics.gauge("wallet_in_transit_amount_by_currency",
                "Money of transfers across owners debited and not yet credited, ledger-wide, per "
                "currency, in its units (read from Postgres every 250 ms)",
                [&g] {
                  std::lock_guard<std::mutex> lock(g.in_transit_mutex);
                  std::vector<std::pair<http::Labels, double>> series;
                  for (const auto& [code, amount] : g.in_transit_by_currency) {
                    series.push_back({{{"currency", code}}, amount});
                  }
                  return series;
                });
  gauge("wallet_in_transit_count", "Transfers across owners not yet credited, ledger-wide",
        [&g] { return static_cast<double>(g.in_transit_count.load()); });
  gauge("wallet_credits_arrived_total",
        "Credits of transfers across owners this instance applied since start",
        [&g] { return static_cast<double>(g.credits_arrived.load()); });
  gauge("wallet_in_transit_oldest_seconds",
        "Age of the oldest transfer across owners not yet credited, ledger-wide (0: none)",
        [&g] { return static_cast<double>(g.in_transit_oldest_ms.load()) / 1000.0; });
}

void register_idempotency_metrics(http::Metrics& metrics, const Gauge& gauge,
                                  const actors::LedgerGauges& g) {
  // Idempotency retention: a stale catch-up time means the purge falls behind or fails.
  metrics.describe("wallet_idempotency_purged_total", "counter",
                   "Expired idempotency outcomes this instance purged since start");
  gauge("wallet_idempotency_purged_total",
        "Expired idempotency outcomes this instance purged since start",
        [&g] { return static_cast<double>(g.idempotency_purged.load()); });
  gauge("wallet_idempotency_purge_caught_up_timestamp_seconds",
        "When (Unix seconds) the idempotency purge last found less than a full batch left "
        "(0: not yet since start)",
        [&g] { return static_cast<double>(g.idempotency_caught_up_unix_s.load()); });
}

}  // namespace

void register_ledger_metrics(http::Metrics& metrics, actors::Ledger& ledger) {
  metrics.describe("ledger_commit_seconds", "histogram",
                   "Latency of one group commit of the ledger writer");
  metrics.describe("ledger_batch_mutations_total", "counter", "Mutations written by group commits");
  const Gauge gauge = [&metrics](const char* name, const char* help, std::function<double()> read) {
    metrics.gauge(name, help, [read] {
      return std::vector<std::pair<http::Labels, double>>{{{}, read()}};
    });
  };
  register_actor_metrics(gauge, ledger);
  register_in_transit_metrics(metrics, gauge, ledger.gauges());
  register_idempotency_metrics(metrics, gauge, ledger.gauges());
}

void register_ledger_event_metrics(http::Metrics& metrics, messaging::LedgerEventRelay& relay) {
  metrics.gauge("ledger_events_pending",
                "Ledger events committed and not yet acknowledged by Kafka", [&relay] {
                  return std::vector<std::pair<http::Labels, double>>{
                      {{}, static_cast<double>(relay.pending())}};
                });
  metrics.describe("ledger_events_published_total", "counter",
                   "Ledger events acknowledged by Kafka since start");
  metrics.gauge("ledger_events_published_total", "Ledger events acknowledged by Kafka since start",
                [&relay] {
                  return std::vector<std::pair<http::Labels, double>>{
                      {{}, static_cast<double>(relay.published())}};
                });
}

void register_consumer_metrics(http::Metrics& metrics, messaging::UserCreatedConsumer& consumer) {
  metrics.gauge(
      "kafka_consumer_lag", "Messages of user-created not yet processed, all partitions",
      [&consumer] {
        auto status = consumer.status();
        double lag = status.value("total_lag", 0.0);
        return std::vector<std::pair<http::Labels, double>>{
            {{{"topic", status.value("topic", std::string(domain::kUserCreatedTopic))}}, lag}};
      });

  metrics.describe("kafka_dead_letters_total", "counter",
                   "user-created events sent to the dead-letter topic since start");
  metrics.gauge("kafka_dead_letters_total",
                "user-created events sent to the dead-letter topic since start", [&consumer] {
                  return std::vector<std::pair<http::Labels, double>>{
                      {{},
                       consumer.status()
                           .value("counters", nlohmann::json::object())
                           .value("dead_lettered", 0.0)}};
                });
}

}  // namespace wallet::services
