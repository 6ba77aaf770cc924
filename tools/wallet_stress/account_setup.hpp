// Account setup before the load: creates users through user-service (or reuses the ids of a
// previous run's JSON), waits until each account exists in transaction-service (the user-created
// event travels through Kafka), reads each starting balance and funds every account once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

struct Account {
  std::string user_id;
  int64_t baseline_minor = 0;  // balance before this run touched it (0 for a new user)
  int64_t funded_minor = 0;    // what this run deposited
  bool reused = false;
};

struct AccountSetup {
  std::vector<Account> accounts;
  std::string error;  // non-empty: the run cannot go on
  double seconds = 0;
};

AccountSetup prepare_accounts(const StressConfig& config, const std::string& run_id);

// The "users" array of a previous run's JSON result.
std::vector<std::string> read_user_ids(const std::string& json_path, std::string& error);

}  // namespace wallet::stress
