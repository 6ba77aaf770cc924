// transaction-service: the ledger. Reads configuration, applies migrations, claims partitions,
// starts the actor system (ledger writer, account registry, idempotency gate), the Kafka and NATS
// bridges and the HTTP API; on SIGINT/SIGTERM stops taking requests, lets in-flight ones finish,
// then stops the rest in reverse order. Only the wiring is here: options.hpp, ownership.hpp,
// ledger_metrics.hpp and status.hpp build the pieces.
#include <spdlog/spdlog.h>

#include <caf/all.hpp>
#include <chrono>
#include <thread>

#include "actors/ledger.hpp"
#include "http/admin_page.hpp"
#include "http/common.hpp"
#include "http/openapi.hpp"
#include "http/server.hpp"
#include "http/transaction_api.hpp"
#include "messaging/bridges.hpp"
#include "messaging/ledger_event_relay.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "services/common/config.hpp"
#include "services/common/crash_report.hpp"
#include "services/common/service_config.hpp"
#include "services/common/startup.hpp"
#include "services/transaction_service/ledger_metrics.hpp"
#include "services/transaction_service/options.hpp"
#include "services/transaction_service/ownership.hpp"
#include "services/transaction_service/status.hpp"

using namespace wallet;

namespace {

// At shutdown, how long the operations accepted before it may take to be answered.
constexpr std::chrono::seconds kDrainTimeout{10};
// Then, before the endpoint closes: an answer is handed to the server's reactor just after its
// operation stops counting as in flight, and a request already read when the last one finished
// still reaches the Ledger (and gets its 503). The server has no drain of its own; this lets both
// be written before stop() closes the connections.
constexpr std::chrono::milliseconds kLastAnswersGrace{200};

// What main() builds before the edges: alive until serve() returns.
struct Core {
  caf::actor_system& system;
  http::Metrics& metrics;
  persistence::DbPool& reader;
  actors::Ledger& ledger;
  messaging::LedgerEventRelay* relay;  // null: LEDGER_EVENTS=off
  std::shared_ptr<persistence::OwnedPartitions> owned;
  std::shared_ptr<actors::RemoteHolds> remote_holds;  // kafka ownership with an ADMIN_TOKEN only
};

// The edges that bring work to the Ledger (the Kafka consumer, the NATS responder, the HTTP API
// and, with kafka ownership, the group and forwarded requests) until SIGINT/SIGTERM; then
// everything stops in reverse order.
int serve(const services::TransactionServiceConfig& config, const Core& core) {
  actors::Ledger& ledger = core.ledger;
  http::Router router;
  std::unique_ptr<services::KafkaOwnership> kafka;
  if (config.partition_ownership == "kafka") {
    kafka = std::make_unique<services::KafkaOwnership>(config, core.owned, ledger, core.metrics,
                                                       core.remote_holds);
  }
  messaging::UserCreatedConsumer consumer(core.system, services::consumer_options(config), ledger);
  messaging::BalanceResponder responder(
      core.system, config.nats_url,
      [&ledger](const std::string& user_id, std::function<void(domain::Result<int64_t>)> reply) {
        actors::BalanceQuery query;
        query.user_id = user_id;
        query.reply = std::move(reply);
        ledger.balance(std::move(query));
      },
      config.nats_balance_subject);
  services::register_consumer_metrics(core.metrics, consumer);
  http::ReadinessProbe probe(
      services::readiness_checks(core.reader, ledger, consumer, responder, kafka.get()));

  http::add_health_routes(router, core.metrics, probe);
  http::add_transaction_routes(
      router,
      {ledger, config.admin_token,
       services::bridges_status(consumer, responder, core.relay, kafka.get()),
       config.auth_jwt_secret, core.owned, kafka ? kafka->routing() : nullptr, &core.metrics});
  http::add_admin_page_routes(router);
  if (!http::add_openapi_routes(router, "transaction-service", config.openapi_check == 1)) {
    return 1;  // OPENAPI_CHECK=1 and the routes differ from the document (logged)
  }
  auto server_options = services::http_server_options(config, config.http_port);
  if (!server_options) return 1;                        // RATE_LIMITS does not parse (logged)
  server_options->jwt_secret = config.auth_jwt_secret;  // limits a verified client by its subject
  if (kafka) kafka->serve_routes(router);
  http::HttpServer server(*server_options, std::move(router), core.metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("event=startup_failed cause=\"cannot listen: {}\"", e.what());
    return 1;
  }
  spdlog::info("event=started port={}", server.port());
  // Join the ownership group only once this instance can answer forwarded requests.
  if (kafka && !kafka->start()) {
    server.stop();
    return 1;
  }

  const int signal = services::wait_for_stop_signal();
  spdlog::info("event=stopping signal={} in_flight={}", signal, ledger.in_flight());
  // Stop the sources of new work first, then let what was accepted finish (bounded), then the rest.
  ledger.refuse_new();
  responder.stop();
  consumer.stop();
  if (kafka) kafka->stop();  // gives the partitions up (drained), then forwarded requests
  ledger.drain(std::chrono::steady_clock::now() + kDrainTimeout);
  std::this_thread::sleep_for(kLastAnswersGrace);
  server.stop();
  probe.stop();
  ledger.stop();
  // After the last commit: its events get one bounded attempt now.
  if (core.relay) core.relay->stop();
  core.reader.stop();
  spdlog::info("event=stopped in_flight={}", ledger.in_flight());
  return 0;
}

}  // namespace

int main() {
  services::block_stop_signals();
  std::vector<std::string> config_problems;
  const auto config = services::load_config<services::TransactionServiceConfig>(config_problems);
  services::setup_logging("transaction-service", config.log_level);
  services::log_config_problems(config_problems);
  services::install_crash_handler("transaction-service");

  if (!services::ledger_events_valid(config) || !services::set_currencies(config)) return 1;
  if (!services::migrate(config.database_url, config, "transaction_service")) return 1;
  const auto owned = services::claim_partitions(config);
  if (!owned) return 1;

  caf::actor_system_config caf_config;
  if (!services::configure_actors(caf_config, config)) return 1;
  caf::actor_system system{caf_config};

  http::Metrics metrics;
  services::register_database_metrics(metrics);
  auto pool = services::db_pool(config.database_url, config);
  persistence::DbPool& reader = *pool;

  const auto backend_options = services::ledger_backend_options(config);
  if (!backend_options) return 1;
  auto backend = std::make_shared<persistence::PostgresLedgerBackend>(
      reader, *backend_options, config.partition_ownership == "shared" ? nullptr : owned);
  // The ledger-events relay publishes the outbox rows that each ledger commit writes (by trigger);
  // LEDGER_EVENTS=off runs no relay here: rows keep being written and wait for one that runs.
  std::unique_ptr<messaging::LedgerEventRelay> relay;
  if (config.ledger_events == "on") {
    relay = std::make_unique<messaging::LedgerEventRelay>(
        system, services::ledger_event_relay_options(config));
    services::register_ledger_event_metrics(metrics, *relay);
  }
  const auto ledger_options =
      services::ledger_options(config, *backend_options, metrics, relay.get(), owned);
  auto records = std::make_shared<persistence::PostgresLedgerRecords>(reader);
  actors::Ledger ledger(system, records, backend, ledger_options);
  services::register_ledger_metrics(metrics, ledger);

  return serve(config,
               {system, metrics, reader, ledger, relay.get(), owned, ledger_options.remote_holds});
}
