#include "services/common/startup.hpp"

#include <spdlog/spdlog.h>

#include "persistence/migrations.hpp"
#include "services/common/config.hpp"

namespace wallet::services {

bool migrate(const std::string& database_url, const std::string& service) {
  auto migrated = persistence::apply_migrations(database_url, schema_folder(service));
  if (!migrated) {
    spdlog::critical("event=startup_failed cause=\"{}\"", migrated.error().message);
    return false;
  }
  return true;
}

void configure_actors(caf::actor_system_config& config) {
  config.set("scheduler.max-threads", static_cast<size_t>(env_int("ACTOR_THREADS", 2)));
  config.set("logger.console", caf::atom("none"));
}

std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url) {
  return std::make_unique<persistence::DbPool>(
      database_url, static_cast<int>(env_int("DB_POOL_SIZE", 4)),
      static_cast<size_t>(env_int("DB_QUEUE_LIMIT", 10'000)));
}

}  // namespace wallet::services
