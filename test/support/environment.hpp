// Where the real servers of the local stack are, as scripts/test exports them (with the local
// defaults of scripts/up when a variable is unset).
#pragma once

#include <string>

namespace wallet::test {

std::string env_or(const char* name, const std::string& fallback);

std::string transaction_db_url();
std::string user_db_url();
std::string kafka_brokers();
std::string nats_url();
std::string user_service_url();
std::string transaction_service_url();
std::string admin_token();
std::string scripts_dir();
std::string bin_dir();

}  // namespace wallet::test
