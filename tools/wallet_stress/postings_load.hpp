// The load of a --postings run: the funding transactions first (each must be answered 201), then
// `concurrency` workers send the plan's schedule (POST /transactions, POST
// /transactions/{id}/reverse), retrying 429, 503 and lost answers with the same Idempotency-Key,
// and keep every definitive answer per key for the checks (as load_runner does for transfers). A
// reversal waits for its target's answer and is not sent when that was not 201.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/load_runner.hpp"
#include "tools/wallet_stress/postings_plan.hpp"
#include "tools/wallet_stress/postings_setup.hpp"
#include "tools/wallet_stress/run_stats.hpp"

namespace wallet::stress {

struct PostingsLoad {
  RunStats stats;                 // the load only (the funding is not counted)
  std::vector<KeyRecord> keys;    // indexed like PostingPlan::ops
  std::vector<uint32_t> retries;  // per op: sends repeated after 429, 503 or no answer
  // Per op: its distinct definitive answers ("<status> <body>"), the first kVariantsKept.
  static constexpr size_t kVariantsKept = 4;
  std::vector<std::vector<std::string>> variants;
  double elapsed_seconds = 0;
  bool stopped_early = false;
  uint64_t resolved_after_run = 0;
};

// Sends the funding transactions; an error text when one was not answered 201.
std::string fund_postings_accounts(const StressConfig& config, const PostingPlan& plan,
                                   const PostingsSetup& setup, PostingsLoad& load);

void run_postings_load(const StressConfig& config, const PostingPlan& plan,
                       const PostingsSetup& setup, PostingsLoad& load);

// The transaction id of a 201 answer (empty for anything else).
std::string answered_transaction_id(const KeyRecord& key);

}  // namespace wallet::stress
