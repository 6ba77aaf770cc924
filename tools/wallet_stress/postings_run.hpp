// wallet-stress --postings: transactions of many postings (SPEC.md section 8) under concurrent,
// duplicated load over accounts in several currencies (postings_setup.hpp): payments with a fee,
// splits, exchanges through liquidity accounts, @world deposits and withdrawals, transactions
// that must be refused whole, and reversals (whole, partial, racing), then every check of
// postings_answers.hpp and postings_verifier.hpp. The transfer modes' checks do not run: the money
// here moves between accounts they do not know.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tools/wallet_stress/stress_config.hpp"
#include "tools/wallet_stress/stress_report.hpp"

namespace wallet::stress {

// Checks the options --postings needs and refuses the ones it does not take; an error text.
std::string check_postings_options(StressConfig& config);

// Fills `report` (run_id set) with the run: figures, invariants, or the error that stopped it.
void run_postings(const StressConfig& config, StressReport& report);

}  // namespace wallet::stress
