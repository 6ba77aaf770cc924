#include "services/common/startup.hpp"

#include <spdlog/spdlog.h>

#include "persistence/migrations.hpp"
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

void configure_actors(caf::actor_system_config& caf_config, const CommonConfig& config) {
  caf_config.set("scheduler.max-threads", static_cast<size_t>(config.actor_threads));
  caf_config.set("logger.console", caf::atom("none"));
}

std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url,
                                             const CommonConfig& config) {
  return std::make_unique<persistence::DbPool>(database_url, static_cast<int>(config.db_pool_size),
                                               static_cast<size_t>(config.db_queue_limit));
}

}  // namespace wallet::services
