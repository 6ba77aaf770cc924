// Process set-up both services share: logging, the wait for SIGINT/SIGTERM, where the migrations
// are. The configuration itself is loaded once, by service_config.hpp's load_config().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wallet::services {

// spdlog: one line per event at `level` (trace..error: LOG_LEVEL), to stderr.
void setup_logging(const std::string& service, const std::string& level);
// Logs what load_config() ignored (a value that did not parse).
void log_config_problems(const std::vector<std::string>& problems);

// Blocks SIGINT/SIGTERM (and ignores SIGPIPE) in the calling thread and every thread it starts
// afterwards: call first in main(), so that only wait_for_stop_signal() receives them.
void block_stop_signals();

// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_stop_signal();

// Where the migrations of `service` live: <schema_dir>/<service>, or under the source tree's
// schema/ when schema_dir (SCHEMA_DIR) is empty.
std::string schema_folder(const std::string& schema_dir, const std::string& service);

}  // namespace wallet::services
