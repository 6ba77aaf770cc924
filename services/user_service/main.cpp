// user-service: users and their `user-created` events. Reads configuration, applies migrations,
// starts the outbox relay (Kafka), the balance requester (NATS), the DB pool and the HTTP API; on
// SIGINT/SIGTERM answers what was accepted, stops taking requests, lets the relay make a last
// publishing attempt, then stops the rest. Only the wiring is here: options.hpp builds the bridges'
// options and metrics.
#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include "http/common.hpp"
#include "http/openapi.hpp"
#include "http/server.hpp"
#include "http/user_api.hpp"
#include "messaging/contract.hpp"
#include "messaging/nats_requester.hpp"
#include "messaging/outbox_relay.hpp"
#include "persistence/db_pool.hpp"
#include "services/common/config.hpp"
#include "services/common/crash_report.hpp"
#include "services/common/service_config.hpp"
#include "services/common/startup.hpp"
#include "services/user_service/options.hpp"
#include "users/user_directory.hpp"

using namespace wallet;

namespace {

// What main() builds before the edges: alive until serve() returns.
struct Core {
  http::Metrics& metrics;
  persistence::DbPool& db;
  messaging::OutboxRelay& relay;
};

// The balance requester (NATS) the directory asks and the HTTP API that brings it work, until
// SIGINT/SIGTERM; then everything stops in the order below.
int serve(const services::UserServiceConfig& config, const Core& core) {
  http::Metrics& metrics = core.metrics;
  persistence::DbPool& db = core.db;
  messaging::OutboxRelay& relay = core.relay;
  messaging::NatsRequester requester(services::balance_requester_options(config, metrics));

  http::ReadinessProbe probe({{"postgres", [&db] { return db.ping(); }},
                              {"kafka", [&relay] { return relay.healthy(); }},
                              {"nats", [&requester] { return requester.healthy(); }}});

  users::UserDirectory directory(
      db, config.kafka_topic,
      [&requester](const std::string& payload,
                   std::function<void(domain::Result<std::string>)> reply) {
        requester.request(messaging::kBalanceSubject, payload, std::move(reply));
      });

  http::Router router;
  http::add_health_routes(router, metrics, probe);
  http::add_user_routes(router, directory);
  if (!http::add_openapi_routes(router, "user-service", config.openapi_check == 1)) {
    return 1;  // OPENAPI_CHECK=1 and the routes differ from the document (logged)
  }

  auto server_options = services::http_server_options(config, config.http_port);
  if (!server_options) return 1;  // RATE_LIMITS does not parse (logged)
  http::HttpServer server(*server_options, std::move(router), metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("event=startup_failed cause=\"cannot listen: {}\"", e.what());
    return 1;
  }
  spdlog::info("event=started port={} topic={}", server.port(), config.kafka_topic);

  const int signal = services::wait_for_stop_signal();
  spdlog::info("event=stopping signal={} outbox_pending={}", signal, relay.pending());
  // Every accepted request gets an answer: the requester and the pool finish what runs and answer
  // what is queued with 503; only then does the endpoint close. Users committed until then are in
  // the outbox, which the relay tries once more to publish before it stops.
  requester.stop();
  db.stop();
  server.stop();
  probe.stop();
  relay.stop();
  spdlog::info("event=stopped outbox_pending={}", relay.pending());
  return 0;
}

}  // namespace

int main() {
  services::block_stop_signals();
  std::vector<std::string> config_problems;
  const auto config = services::load_config<services::UserServiceConfig>(config_problems);
  services::setup_logging("user-service", config.log_level);
  services::log_config_problems(config_problems);
  services::install_crash_handler("user-service");

  const std::string& database_url = config.database_url;
  if (!services::migrate(database_url, config, "user_service")) return 1;

  caf::actor_system_config caf_config;
  if (!services::configure_actors(caf_config, config)) return 1;
  caf::actor_system system{caf_config};

  http::Metrics metrics;
  services::register_database_metrics(metrics);
  auto pool = services::db_pool(database_url, config);
  persistence::DbPool& db = *pool;

  messaging::OutboxRelay relay(system, services::outbox_relay_options(config));
  services::register_bridge_metrics(metrics, relay);

  return serve(config, {metrics, db, relay});
}
