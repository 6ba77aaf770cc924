// The load phase: `concurrency` worker threads, each with its own keep-alive session, send the
// plan's schedule in order to POST /transferMoney (or each operation's own endpoint: holds,
// withdrawals, POST /transactions of a payment with a fee, ...). 429, 503 and lost answers are
// retried with the same Idempotency-Key (which is what makes retrying safe). Every definitive
// answer (anything else) is kept per key for the verifier. Stops early at --duration-limit or on
// SIGINT; sends already started still finish, and keys left without a definitive answer are re-sent
// afterwards until they have one, so that every key that was sent ends with a known outcome.
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

// One request of an account operation (overdraft, freeze, close) and its answer. The
// verifier judges each against SPEC.md section 8 by `what`, and counts the money of those answered
// 200/201 (`effect`, between AccountSetup::extra[from] and [to]) into its expectations, whatever
// was expected, so that a wrong answer is reported once and not again as a wrong balance.
enum class StepEffect : uint8_t { none, deposit, withdraw, transfer, hold, void_hold };

struct AccountStep {
  std::string what;  // "freeze", "debit while frozen", ... (api_verifier knows each)
  StepEffect effect = StepEffect::none;
  int64_t from = -1, to = -1;  // AccountSetup::extra indexes; -1: none
  int64_t amount_minor = 0;
  std::string request;  // method, path and body, for the report
  int status = 0;       // 0: no definitive answer after every retry
  std::string body;
  bool replayed = false;  // answered with `Idempotent-Replayed: true`
  bool retried = false;   // an earlier attempt got no definitive answer (it may have applied)
};

struct AccountOpRecord {
  std::vector<AccountStep> steps;
};

struct LoadResult {
  RunStats stats;
  std::vector<KeyRecord> keys;  // indexed like TransferPlan::transfers
  // The steps of each account operation (indexed like TransferPlan::transfers, empty
  // for other kinds), and per AccountSetup::extra account the overdraft line and status the
  // driver last set with a 200 (account operations on one account run one at a time).
  std::vector<AccountOpRecord> account_ops;
  std::vector<int64_t> line_minor;
  std::vector<std::string> status;
  double elapsed_seconds = 0;  // the load phase, without the after-run resolution
  bool stopped_early = false;  // --duration-limit or SIGINT cut the schedule short
  uint64_t resolved_after_run = 0;
};

LoadResult run_load(const StressConfig& config, const TransferPlan& plan,
                    const std::vector<Account>& accounts,
                    const std::vector<CurrencyAccount>& extra = {});

// SIGINT ends the load early (the checks still run); a second SIGINT exits at once.
void stop_load_on_sigint();
// Whether that first SIGINT came (for the other modes' load loops).
bool load_stop_requested();

}  // namespace wallet::stress
