// transaction-service: the ledger. Reads configuration, applies migrations, starts the actor
// system (ledger writer, account registry, idempotency gate), the Kafka and NATS bridges and the
// HTTP API; on SIGINT/SIGTERM stops taking requests, lets in-flight ones finish, then stops the
// rest in reverse order.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "actors/ledger.hpp"
#include "domain/contract.hpp"
#include "domain/currency.hpp"
#include "domain/partitioning.hpp"
#include "http/admin_page.hpp"
#include "http/common.hpp"
#include "http/openapi.hpp"
#include "http/server.hpp"
#include "http/transaction_api.hpp"
#include "http/transaction_holds_api.hpp"
#include "messaging/bridges.hpp"
#include "messaging/ledger_event_relay.hpp"
#include "messaging/partition_ownership.hpp"
#include "messaging/partition_requests.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "services/common/config.hpp"
#include "services/common/crash_report.hpp"
#include "services/common/service_config.hpp"
#include "services/common/startup.hpp"

using namespace wallet;

namespace {

// A forwarded money request is answered within its deadline plus this (scheduling, the hop).
constexpr std::chrono::milliseconds kAnswerSlack{500};

void register_ledger_metrics(http::Metrics& metrics, actors::Ledger& ledger) {
  metrics.describe("ledger_commit_seconds", "histogram",
                   "Latency of one group commit of the ledger writer");
  metrics.describe("ledger_batch_mutations_total", "counter", "Mutations written by group commits");
  auto gauge = [&metrics](const char* name, const char* help, std::function<double()> read) {
    metrics.gauge(name, help, [read] {
      return std::vector<std::pair<http::Labels, double>>{{{}, read()}};
    });
  };
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
  // Release 2: holds.
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
  // Beyond one machine.
  gauge("ledger_commits_fenced_total",
        "Ledger batches refused by the ownership fence (a partition this instance claimed had "
        "moved to another instance) since start",
        [&g] { return static_cast<double>(g.commits_fenced.load()); });
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

// INSTANCE_ID, or by default "<hostname>:<HTTP_PORT>": stable across restarts of the same
// deployment (which static group membership will rely on), distinct between instances of a host.
std::string instance_id(const services::TransactionServiceConfig& config) {
  if (!config.instance_id.empty()) return config.instance_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(config.http_port);
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

}  // namespace

int main() {
  services::block_stop_signals();
  std::vector<std::string> config_problems;
  const auto config = services::load_config<services::TransactionServiceConfig>(config_problems);
  services::setup_logging("transaction-service", config.log_level);
  services::log_config_problems(config_problems);
  services::install_crash_handler("transaction-service");

  const std::string& database_url = config.database_url;
  if (config.ledger_events != "on" && config.ledger_events != "off") {
    spdlog::critical("event=startup_failed cause=\"LEDGER_EVENTS must be on or off\"");
    return 1;
  }

  // Currencies (SPEC.md section 8), set before any other thread starts (domain/currency.hpp).
  auto currencies = domain::Currencies::parse(config.currencies, config.default_currency);
  if (!currencies) {
    spdlog::critical("event=startup_failed cause=\"CURRENCIES/DEFAULT_CURRENCY: {}\"",
                     currencies.error().message);
    return 1;
  }
  domain::set_configured_currencies(std::move(currencies.value()));

  if (!services::migrate(database_url, config, "transaction_service")) return 1;

  // Ownership (SPEC.md section 7): accounts hash to LEDGER_PARTITIONS partitions (fixed when the
  // cluster is created). PARTITION_OWNERSHIP=all: this instance takes them all at start, which
  // fences out any former holder, and every commit carries the epochs taken here. shared: it takes
  // none and commits unfenced (several instances on one database, guarded by Postgres alone).
  const std::string& ownership = config.partition_ownership;
  const int64_t partitions = config.ledger_partitions;
  if (ownership != "all" && ownership != "shared" && ownership != "kafka") {
    spdlog::critical(
        "event=startup_failed cause=\"PARTITION_OWNERSHIP must be all, kafka or shared\"");
    return 1;
  }
  if (partitions < 1 || partitions > 4096) {
    spdlog::critical("event=startup_failed cause=\"LEDGER_PARTITIONS must be 1..4096\"");
    return 1;
  }
  auto owned = std::make_shared<persistence::OwnedPartitions>(instance_id(config),
                                                              static_cast<int>(partitions));
  if (ownership == "all") {
    if (auto taken = persistence::take_all_partitions(database_url, *owned); !taken) {
      spdlog::critical("event=startup_failed cause=\"{}\"", taken.error().message);
      return 1;
    }
  } else if (ownership == "kafka") {
    // The partitions come from the group later; they must exist, with this count.
    if (auto created = persistence::ensure_partitions(database_url, *owned); !created) {
      spdlog::critical("event=startup_failed cause=\"{}\"", created.error().message);
      return 1;
    }
  }
  spdlog::info("event=ownership mode={} instance={} partitions={} held={}", ownership,
               owned->instance_id(), partitions, owned->held().size());

  caf::actor_system_config caf_config;
  if (!services::configure_actors(caf_config, config)) return 1;
  caf::actor_system system{caf_config};

  http::Metrics metrics;
  services::register_database_metrics(metrics);
  auto pool = services::db_pool(database_url, config);
  persistence::DbPool& reader = *pool;

  if (config.ledger_write_lanes < 1 || config.ledger_write_lanes > 32 ||
      config.ledger_max_batch < 1) {
    spdlog::critical(
        "event=startup_failed cause=\"LEDGER_WRITE_LANES must be 1 to 32 and LEDGER_MAX_BATCH at "
        "least 1\"");
    return 1;
  }
  persistence::PostgresLedgerOptions backend_options;
  backend_options.database_url = database_url;
  backend_options.write_lanes = static_cast<size_t>(config.ledger_write_lanes);
  backend_options.statement_timeout = std::chrono::milliseconds(config.ledger_statement_timeout_ms);
  backend_options.idempotency_ttl = std::chrono::seconds(config.idempotency_ttl);
  auto backend = std::make_shared<persistence::PostgresLedgerBackend>(
      reader, backend_options, ownership == "shared" ? nullptr : owned);
  // The ledger-events relay publishes the outbox rows that each ledger commit writes (by trigger);
  // LEDGER_EVENTS=off runs no relay here: rows keep being written and wait for one that runs.
  std::unique_ptr<messaging::LedgerEventRelay> relay;
  if (config.ledger_events == "on") {
    messaging::LedgerEventRelayOptions relay_options;
    relay_options.brokers = config.kafka_brokers;
    relay_options.topic = config.ledger_events_topic;
    relay_options.database_url = database_url;
    relay_options.linger = std::chrono::milliseconds(config.ledger_events_linger_ms);
    relay = std::make_unique<messaging::LedgerEventRelay>(system, relay_options);
    register_ledger_event_metrics(metrics, *relay);
  }

  actors::LedgerOptions ledger_options;
  ledger_options.idempotency_ttl = backend_options.idempotency_ttl;
  ledger_options.request_deadline = std::chrono::milliseconds(config.request_deadline_ms);
  ledger_options.max_batch = static_cast<size_t>(config.ledger_max_batch);
  ledger_options.idle_after = std::chrono::milliseconds(config.actor_idle_ms);
  ledger_options.max_in_flight = static_cast<size_t>(config.max_in_flight);
  ledger_options.on_commit = [&metrics, events = relay.get()](std::chrono::microseconds latency,
                                                              size_t size) {
    metrics.observe("ledger_commit_seconds", {}, latency.count() / 1e6);
    metrics.count("ledger_batch_mutations_total", {}, static_cast<double>(size));
    if (events) events->wake();  // the commit wrote outbox rows
  };
  if (ownership == "kafka") ledger_options.owned = owned;
  // Across owners: the Ledger reaches the owners of a transaction's other payers through the
  // forwarding transport, filled in below once it exists (no request arrives before the group
  // assigns partitions). Without an admin token the internal routes refuse everything: such
  // transactions are then refused (422 accounts_across_owners).
  std::shared_ptr<actors::RemoteHolds> remote_holds;
  if (ownership == "kafka" && !config.admin_token.empty()) {
    remote_holds = std::make_shared<actors::RemoteHolds>();
    ledger_options.remote_holds = remote_holds;
  }
  // One instance that owns everything still credits transfers left in transit by an earlier
  // run of several instances.
  if (ownership == "all") ledger_options.arrivals_for = owned;
  actors::Ledger ledger(system, &reader, backend, ledger_options);
  register_ledger_metrics(metrics, ledger);

  // Beyond one machine (kafka ownership): the group assigns partitions; requests for partitions
  // served elsewhere go to their owner over NATS, requests for ours come in the same way.
  http::Router router;
  // The routes forwarded requests run through: a copy of `router` once complete (the server takes
  // `router`); nothing is forwarded here before the group assigns partitions, after start.
  http::Router served_routes;
  std::unique_ptr<messaging::PartitionRequests> partition_requests;
  std::unique_ptr<messaging::PartitionOwnership> ownership_group;
  std::shared_ptr<http::OwnerRouting> routing;
  if (ownership == "kafka") {
    messaging::NatsRequesterOptions forward_options;
    forward_options.url = config.nats_url;
    forward_options.timeout = std::chrono::milliseconds(config.forward_timeout_ms);
    forward_options.threads = static_cast<int>(config.forward_threads);
    forward_options.max_queue = static_cast<size_t>(config.max_in_flight);
    forward_options.on_result = [&metrics](const std::string& outcome,
                                           std::chrono::microseconds latency) {
      metrics.count("wallet_forwarded_requests_total", {{"outcome", outcome}});
      metrics.observe("wallet_forward_seconds", {}, latency.count() / 1e6);
    };
    partition_requests = std::make_unique<messaging::PartitionRequests>(
        config.nats_ledger_subject,
        [&served_routes, &routing](std::string payload, std::function<void(std::string)> reply) {
          routing->serve(served_routes, payload, std::move(reply));
        },
        forward_options);
    http::SendToOwner send_to_owner = [requests = partition_requests.get()](
                                          int partition, std::string payload,
                                          std::function<void(domain::Result<std::string>)> done,
                                          std::chrono::milliseconds within) {
      requests->forward(partition, std::move(payload), std::move(done), within);
    };
    routing = std::make_shared<http::OwnerRouting>(
        owned, send_to_owner, &metrics,
        std::chrono::milliseconds(config.request_deadline_ms) + kAnswerSlack);
    if (remote_holds) {
      *remote_holds = http::remote_holds_over(send_to_owner, owned, config.admin_token);
    }
    messaging::PartitionOwnershipOptions group_options;
    group_options.brokers = config.kafka_brokers;
    group_options.topic = config.ownership_topic;
    group_options.group = config.ownership_group;
    group_options.instance_id = owned->instance_id();
    group_options.partitions = static_cast<int>(partitions);
    group_options.replication = static_cast<int>(config.ownership_replication);
    group_options.session_timeout = std::chrono::milliseconds(config.ownership_session_timeout_ms);
    group_options.take = [&ledger,
                          requests = partition_requests.get()](const std::vector<int>& taken) {
      if (!ledger.take_partitions(taken)) return false;
      for (int partition : taken) requests->serve(partition);
      return true;
    };
    group_options.give_up = [&ledger, requests = partition_requests.get(),
                             drain =
                                 ledger_options.request_deadline](const std::vector<int>& given) {
      requests->stop_serving(given);
      ledger.give_up_partitions(given, drain);
    };
    // Reads come from the actors' memory only while the group confirms this membership.
    owned->require_lease();
    group_options.lease_renewed = [owned](std::chrono::steady_clock::time_point until) {
      owned->extend_lease(until);
    };
    group_options.lease_broken = [owned](bool lost) { owned->break_lease(lost); };
    ownership_group = std::make_unique<messaging::PartitionOwnership>(group_options);
  }

  messaging::ConsumerOptions consumer_options;
  consumer_options.brokers = config.kafka_brokers;
  consumer_options.topic = config.kafka_topic;
  consumer_options.dlq_topic = config.dlq_topic();
  consumer_options.group = config.kafka_group_id;
  messaging::UserCreatedConsumer consumer(system, consumer_options, ledger);

  messaging::BalanceResponder responder(
      system, config.nats_url,
      [&ledger](const std::string& user_id, std::function<void(domain::Result<int64_t>)> reply) {
        actors::BalanceQuery query;
        query.user_id = user_id;
        query.reply = std::move(reply);
        ledger.balance(std::move(query));
      },
      config.nats_balance_subject);

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

  // Readiness means serving: with kafka ownership, also that the group's assignment has settled
  // and this instance serves what it was assigned (PartitionOwnership::serving).
  std::vector<http::ReadinessProbe::Check> checks{
      {"postgres", [&reader] { return reader.ping(); }},
      {"kafka", [&consumer] { return consumer.healthy(); }},
      {"nats", [&responder] { return responder.healthy(); }}};
  if (ownership_group) {
    checks.push_back({"partitions", [group = ownership_group.get()] { return group->serving(); }});
  }
  http::ReadinessProbe probe(std::move(checks));

  http::add_health_routes(router, metrics, probe);
  http::add_transaction_routes(
      router, {ledger, config.admin_token,
               [&consumer, &responder, events = relay.get(), group = ownership_group.get(),
                requests = partition_requests.get()] {
                 nlohmann::json state{{"kafka_consumer", consumer.status()},
                                      {"nats_responder", responder.status()},
                                      {"ledger_events", events ? events->status()
                                                               : nlohmann::json{{"state", "off"}}}};
                 if (group) state["partition_ownership"] = group->status();
                 if (requests) state["partition_requests"] = requests->status();
                 return state;
               },
               config.auth_jwt_secret, owned, routing});
  http::add_admin_page_routes(router);
  if (!http::add_openapi_routes(router, "transaction-service", config.openapi_check == 1)) {
    return 1;  // OPENAPI_CHECK=1 and the routes differ from the document (logged)
  }

  auto server_options = services::http_server_options(config, config.http_port);
  if (!server_options) return 1;                        // RATE_LIMITS does not parse (logged)
  server_options->jwt_secret = config.auth_jwt_secret;  // limits a verified client by its subject
  served_routes = router;
  http::HttpServer server(*server_options, std::move(router), metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("event=startup_failed cause=\"cannot listen: {}\"", e.what());
    return 1;
  }
  spdlog::info("event=started port={}", server.port());
  // Join the ownership group only once this instance can answer forwarded requests.
  if (ownership_group && !ownership_group->start()) {
    server.stop();
    return 1;
  }

  const int signal = services::wait_for_stop_signal();
  spdlog::info("event=stopping signal={} in_flight={}", signal, ledger.in_flight());
  // Stop the sources of new work first, then let what was accepted finish (bounded), then the rest.
  ledger.refuse_new();
  responder.stop();
  consumer.stop();
  // Give the partitions up (drained) and close the group consumer; with static membership the
  // others take them after the session timeout, or this instance gets them back if it restarts
  // within it. Then stop answering forwarded requests.
  if (ownership_group) ownership_group->stop();
  if (partition_requests) partition_requests->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ledger.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A request that was on its way when the last in-flight one finished still gets its (503) answer.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.stop();
  probe.stop();
  ledger.stop();
  if (relay) relay->stop();  // after the last commit: its events get one bounded attempt now
  reader.stop();
  spdlog::info("event=stopped in_flight={}", ledger.in_flight());
  return 0;
}
