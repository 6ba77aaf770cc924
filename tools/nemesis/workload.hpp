// `wallet-nemesis run`: opens the accounts, then several clients, each on its own connections and
// thread, send keyed deposits, withdrawals, transfers, holds with their capture or void,
// multi-posting transactions and balance reads to random instances for the given time, recording
// every invocation and completion in the history (tools/nemesis/history.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wallet::nemesis {

struct WorkloadConfig {
  uint64_t seed = 1;
  int seconds = 180;
  int clients = 6;
  int accounts = 8;
  int op_deadline_s = 20;  // retries of one op by its key stop after this; settle resolves it
  long request_timeout_ms = 6000;
  std::vector<std::string> tx_urls;
  std::vector<std::string> user_urls;
  std::string history_path;
};

// Returns the process exit code (0, or 1 when the accounts could not be opened).
int run_workload(const WorkloadConfig& config);

}  // namespace wallet::nemesis
