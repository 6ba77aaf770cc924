// The end-of-run checks through the public API, from what the driver itself was answered: each
// key has one outcome; each account's balance is exactly its funding plus the credits minus the
// debits of the transfers answered 200; money is conserved; no balance is negative; and each
// account's history (GET /users/{id}/transactions) is a gap-free chain that ends at the balance and
// holds exactly the accepted transfers.
#pragma once

#include <cstdint>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/load_runner.hpp"
#include "tools/wallet_stress/stress_config.hpp"
#include "tools/wallet_stress/transfer_plan.hpp"

namespace wallet::stress {

struct OutcomeCounts {
  uint64_t accepted = 0;    // keys whose outcome is 200
  uint64_t refused = 0;     // keys whose outcome is 409 insufficient_funds
  uint64_t other = 0;       // keys with any other definitive outcome
  uint64_t unresolved = 0;  // keys sent that never got a definitive answer
};

struct ApiVerification {
  OutcomeCounts outcomes;
  // Per account: baseline + funding + credits - debits of the accepted transfers (what the
  // balance must be), as the driver computed it.
  std::vector<int64_t> expected_minor;
  // Release 2: per account, the sum of the holds it pays that must still be pending.
  std::vector<int64_t> expected_held_minor;
  std::vector<InvariantResult> invariants;
};

ApiVerification verify_through_api(const StressConfig& config, const TransferPlan& plan,
                                   const std::vector<Account>& accounts, const LoadResult& load);

}  // namespace wallet::stress
