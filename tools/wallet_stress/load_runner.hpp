// The load phase: `concurrency` worker threads, each with its own keep-alive session, send the
// plan's schedule in order to POST /transferMoney. 429, 503 and lost answers are retried with the
// same Idempotency-Key (which is what makes retrying safe). Every definitive answer (anything
// else) is kept per key for the verifier. Stops early at --duration-limit or on SIGINT; sends
// already started still finish, and keys left without a definitive answer are re-sent afterwards
// until they have one, so that every key that was sent ends with a known outcome.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/run_stats.hpp"
#include "tools/wallet_stress/stress_config.hpp"
#include "tools/wallet_stress/transfer_plan.hpp"

namespace wallet::stress {

// What the service answered for one key. Bodies are compared as they arrive, so only the first
// definitive answer is kept in full.
struct KeyRecord {
  bool sent = false;
  int status = 0;          // first definitive status; 0 = none
  std::string body;        // first definitive body
  uint32_t answers = 0;    // definitive answers
  uint32_t originals = 0;  // definitive answers without `Idempotent-Replayed: true`
  uint32_t differing = 0;  // definitive answers whose status or body differ from the first
  std::string differing_example;
  uint32_t gave_up = 0;  // sends that ran out of retries without a definitive answer
};

struct LoadResult {
  RunStats stats;
  std::vector<KeyRecord> keys;  // indexed like TransferPlan::transfers
  double elapsed_seconds = 0;   // the load phase, without the after-run resolution
  bool stopped_early = false;   // --duration-limit or SIGINT cut the schedule short
  uint64_t resolved_after_run = 0;
};

LoadResult run_load(const StressConfig& config, const TransferPlan& plan,
                    const std::vector<Account>& accounts);

// SIGINT ends the load early (the checks still run); a second SIGINT exits at once.
void stop_load_on_sigint();

}  // namespace wallet::stress
