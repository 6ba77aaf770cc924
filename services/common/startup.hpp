// The start-up steps both services share: migrations of their database, the CAF actor system
// configuration and the pool for blocking database work, each read from the environment.
#pragma once

#include <caf/all.hpp>
#include <memory>
#include <string>

#include "persistence/db_pool.hpp"

namespace wallet::services {

// Applies schema/<service>/ to `database_url`; false (after logging why) when it failed.
bool migrate(const std::string& database_url, const std::string& service);

// ACTOR_THREADS scheduler threads (default 2), CAF's own console logging off.
void configure_actors(caf::actor_system_config& config);

// DB_POOL_SIZE threads (default 4) with a DB_QUEUE_LIMIT bound (default 10000).
std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url);

}  // namespace wallet::services
