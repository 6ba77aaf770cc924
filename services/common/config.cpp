#include "services/common/config.hpp"

#include <pthread.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>

namespace wallet::services {

void setup_logging(const std::string& service, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(service);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l service=%n %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_config_problems(const std::vector<std::string>& problems) {
  for (const auto& problem : problems) spdlog::warn("event=bad_config {}", problem);
}

void block_stop_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int wait_for_stop_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

std::string schema_folder(const std::string& schema_dir, const std::string& service) {
  return (schema_dir.empty() ? std::string(WALLET_SOURCE_SCHEMA_DIR) : schema_dir) + "/" + service;
}

}  // namespace wallet::services
