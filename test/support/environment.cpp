#include "test/support/environment.hpp"

#include <cstdlib>
#include <fstream>

namespace wallet::test {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return (value && *value) ? std::string(value) : fallback;
}

std::string transaction_db_url() {
  return env_or("TRANSACTION_DB_URL",
                "postgresql://wallet:wallet@127.0.0.1:55432/transaction_service");
}
std::string user_db_url() {
  return env_or("USER_DB_URL", "postgresql://wallet:wallet@127.0.0.1:55432/user_service");
}
std::string kafka_brokers() { return env_or("KAFKA_BROKERS", "127.0.0.1:9092"); }
std::string nats_url() { return env_or("NATS_URL", "nats://127.0.0.1:4222"); }
std::string user_service_url() { return env_or("USER_SERVICE_URL", "http://127.0.0.1:8080"); }
std::string transaction_service_url() {
  return env_or("TRANSACTION_SERVICE_URL", "http://127.0.0.1:8081");
}
std::string scripts_dir() { return env_or("WALLET_SCRIPTS", WALLET_SOURCE_DIR "/scripts"); }
std::string bin_dir() { return env_or("WALLET_BIN_DIR", WALLET_BIN_DIR_DEFAULT); }

std::string admin_token() {
  std::string token = env_or("ADMIN_TOKEN", "");
  if (!token.empty()) return token;
  std::ifstream file(env_or("WALLET_STATE", WALLET_SOURCE_DIR "/.wallet") + "/admin_token");
  std::getline(file, token);
  return token;
}

}  // namespace wallet::test
