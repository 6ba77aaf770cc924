#include "services/common/startup.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>

#include "http/metrics.hpp"
#include "persistence/migrations.hpp"
#include "persistence/session.hpp"
#include "services/common/config.hpp"

namespace wallet::services {

bool migrate(const std::string& database_url, const CommonConfig& config,
             const std::string& service) {
  auto migrated =
      persistence::apply_migrations(database_url, schema_folder(config.schema_dir, service));
  if (!migrated) {
    spdlog::critical("event=startup_failed cause=\"{}\"", migrated.error().message);
    return false;
  }
  return true;
}

bool configure_actors(caf::actor_system_config& caf_config, const CommonConfig& config) {
  // Work sharing: one queue under a mutex, and a worker with nothing to do sleeps on its condition
  // variable until an enqueue notifies it. CAF's default, work stealing, gives each worker a queue
  // it polls (100 times, then ACTOR_MODERATE_POLLS times 50 us apart) and steals from the others
  // before it sleeps; on 2 cores under load that polling and its wake-ups were most of the
  // service's kernel time. Measured in one `scripts/bench --variant` run each: sharing 140 and 148
  // us of service CPU per transfer, stealing 208 and 218, and 1.2-1.4x the transfers/s.
  if (config.actor_scheduler != "sharing" && config.actor_scheduler != "stealing") {
    spdlog::critical("event=startup_failed cause=\"ACTOR_SCHEDULER must be sharing or stealing\"");
    return false;
  }
  caf_config.set("scheduler.policy", config.actor_scheduler == "sharing" ? caf::atom("sharing")
                                                                         : caf::atom("stealing"));
  caf_config.set("scheduler.max-threads", static_cast<size_t>(config.actor_threads));
  // Stealing only: an idle worker polls its queue 100 times, then 500 times with a 50 us sleep
  // between polls (each sleep a clock_nanosleep syscall and a wake-up) before it waits on its
  // condition variable, and every timer of ours restarts that: two idle workers spent 180 ms of CPU
  // per second in it. ACTOR_MODERATE_POLLS (20) shortens the second phase.
  caf_config.set("work-stealing.moderate-poll-attempts",
                 static_cast<size_t>(std::max<int64_t>(1, config.actor_moderate_polls)));
  caf_config.set("logger.console", caf::atom("none"));
  return true;
}

namespace {

// Descriptors a service holds besides client connections: Postgres pools, Kafka and NATS sockets,
// epoll and event fds of Pistache and librdkafka, logs (about 50 at rest), with room to spare.
constexpr rlim_t kOwnDescriptors = 256;

// The soft open-file limit after raising it as far as the hard limit allows.
rlim_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return RLIM_INFINITY;
  if (limit.rlim_cur != limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return before;
  }
  return limit.rlim_cur;
}

}  // namespace

std::optional<http::ServerOptions> http_server_options(const CommonConfig& config, int64_t port) {
  http::ServerOptions options;
  options.host = config.http_host;
  options.port = static_cast<uint16_t>(port);
  options.threads = static_cast<int>(config.http_threads);
  auto limits = http::parse_rate_limits(
      config.rate_limits, static_cast<size_t>(std::max<int64_t>(0, config.rate_limit_clients)));
  if (!limits) {
    spdlog::critical("event=startup_failed cause=\"{}\"", limits.error().message);
    return std::nullopt;
  }
  options.rate_limits = *limits;
  const rlim_t files = raise_open_file_limit();
  if (files != RLIM_INFINITY && files < options.max_connections + kOwnDescriptors) {
    const size_t fitted = files > 2 * kOwnDescriptors ? files - kOwnDescriptors : files / 2;
    spdlog::warn(
        "event=http_max_connections_lowered from={} to={} cause=\"the open-file limit is {}; "
        "raise it (ulimit -n) to serve more\"",
        options.max_connections, fitted, files);
    options.max_connections = fitted;
  }
  return options;
}

void register_database_metrics(http::Metrics& metrics) {
  const std::string help =
      "Open database connections dropped after a failure since start (failover, restart)";
  metrics.describe("wallet_db_connections_lost_total", "counter", help);
  metrics.gauge("wallet_db_connections_lost_total", help, [] {
    return std::vector<std::pair<http::Labels, double>>{
        {{}, static_cast<double>(persistence::connections_lost())}};
  });
}

std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url,
                                             const CommonConfig& config) {
  persistence::SessionOptions session;
  session.statement_timeout = std::chrono::milliseconds(config.db_statement_timeout_ms);
  return std::make_unique<persistence::DbPool>(database_url, static_cast<int>(config.db_pool_size),
                                               static_cast<size_t>(config.db_queue_limit), session);
}

}  // namespace wallet::services
