#include "services/common/startup.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

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
  // An idle CAF worker polls its queue 100 times, then 500 times with a 50 us sleep between polls
  // (each sleep a clock_nanosleep syscall and a wake-up) before it waits on its condition
  // variable. Every timer of ours (registry scan, sweeps, the in-transit receiver) and every lull
  // under load restarts that: measured here, two idle workers spent 180 ms of CPU per second in
  // it. ACTOR_MODERATE_POLLS (20) keeps a short wait for work arriving in a burst, then the worker
  // sleeps on its condition variable until work is enqueued (which notifies it).
  caf_config.set("work-stealing.moderate-poll-attempts",
                 static_cast<size_t>(std::max<int64_t>(1, config.actor_moderate_polls)));
  caf_config.set("logger.console", caf::atom("none"));
}

std::unique_ptr<persistence::DbPool> db_pool(const std::string& database_url,
                                             const CommonConfig& config) {
  return std::make_unique<persistence::DbPool>(database_url, static_cast<int>(config.db_pool_size),
                                               static_cast<size_t>(config.db_queue_limit));
}

}  // namespace wallet::services
