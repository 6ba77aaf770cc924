// The start-up steps both services share: migrations of their database, the CAF actor system
// configuration and the pool for blocking database work, from the service's configuration.
#pragma once

#include <caf/all.hpp>
#include <memory>
#include <optional>
#include <string>

#include "http/server.hpp"
#include "persistence/db_pool.hpp"
#include "services/common/service_config.hpp"

namespace wallet::services {

// Applies <schema_dir>/<service>/ to `database_url`; false (after logging why) when it failed.
bool migrate(const std::string& database_url, const CommonConfig& config,
             const std::string& service);

// actor_threads scheduler threads under ACTOR_SCHEDULER's policy, CAF's own console logging off;
// false (after logging why) when the policy is unknown.
bool configure_actors(caf::actor_system_config& caf_config, const CommonConfig& config);

// The HTTP server's options from HTTP_HOST, HTTP_THREADS, RATE_LIMITS, RATE_LIMIT_CLIENTS and the
// service's HTTP_PORT. Raises this process's open-file limit to its hard limit (often 1024 soft
// under a shell or CI runner); when even that cannot hold max_connections plus the descriptors the
// service needs for itself, max_connections is lowered to what fits (logged), so connections over
// it get the 503 of the contract instead of a failed accept(2). nullopt (after logging why) when
// RATE_LIMITS does not parse: a limit the operator meant must not silently be no limit.
std::optional<http::ServerOptions> http_server_options(const CommonConfig& config, int64_t port);

// Metrics of the process' database connections: wallet_db_connections_lost_total (open
// connections dropped after a failure: a Postgres failover or restart shows as a jump).
void register_database_metrics(http::Metrics& metrics);

// db_pool_size threads with a db_queue_limit bound.
std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url,
                                             const CommonConfig& config);

}  // namespace wallet::services
