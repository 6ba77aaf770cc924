// The one configuration loader: environment variables with working local defaults (README lists
// them all), plus logging set-up and the wait for SIGINT/SIGTERM shared by both services.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace wallet::services {

std::string env_or(const char* name, const std::string& fallback);
int64_t env_int(const char* name, int64_t fallback);

// spdlog: one line per event, `LOG_LEVEL` (trace..error, default info), to stderr.
void setup_logging(const std::string& service);

// Blocks SIGINT/SIGTERM (and ignores SIGPIPE) in the calling thread and every thread it starts
// afterwards: call first in main(), so that only wait_for_stop_signal() receives them.
void block_stop_signals();

// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_stop_signal();

// Where the migrations of `service` live: $SCHEMA_DIR/<service> or the source tree's schema/.
std::string schema_folder(const std::string& service);

}  // namespace wallet::services
