// The end-of-run checks through the public API, from what the driver itself was answered: each
// key has one outcome; each account's balance is exactly its funding plus the credits minus the
// debits of the transfers answered 200; money is conserved; no balance is negative; and each
// account's history (GET /users/{id}/transactions) is a gap-free chain that ends at the balance and
// holds exactly the accepted transfers. With --currencies: the accounts in other currencies
// through GET /accounts/{id} (balance, conservation per currency, balance rules, the line and
// status the driver left), and every overdraft, freeze and close step answered as SPEC.md section
// 8 says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
  // Account-form transfers refused 409 account_frozen (their payer was frozen then).
  uint64_t refused_frozen = 0;
};

// With --currencies: what the account operations of the run came to.
struct AccountOutcomes {
  uint64_t xfer_acct = 0, xfer_acct_accepted = 0, xfer_acct_insufficient = 0, xfer_acct_frozen = 0;
  uint64_t overdraft = 0, overdraft_set = 0, overdraft_below_debt = 0;
  uint64_t freeze = 0, close = 0;
  uint64_t sequences_as_specified = 0;  // overdraft, freeze and close whose every answer was right
};

struct ApiVerification {
  OutcomeCounts outcomes;
  // Per account: baseline + funding + credits - debits of the accepted transfers (what the
  // balance must be), as the driver computed it.
  std::vector<int64_t> expected_minor;
  // Holds: per account, the sum of the holds it pays that must still be pending.
  std::vector<int64_t> expected_held_minor;
  std::vector<InvariantResult> invariants;

  // Per AccountSetup::extra account: the balance the driver expects (funding and the
  // money of every answer 200), the balance GET /accounts/{id} showed at the end (nullopt: not
  // read), and the overdraft line and status the driver's own requests left it with.
  std::vector<int64_t> expected_extra_minor;
  std::vector<std::optional<int64_t>> extra_read_minor;
  std::vector<int64_t> expected_extra_line;
  std::vector<std::string> expected_extra_status;
  AccountOutcomes account_outcomes;
};

// `extra`, `currencies`: the currency accounts of the run (empty without --currencies).
ApiVerification verify_through_api(const StressConfig& config, const TransferPlan& plan,
                                   const std::vector<Account>& accounts, const LoadResult& load,
                                   const std::vector<CurrencyAccount>& extra = {},
                                   const std::vector<CurrencyInfo>& currencies = {});

}  // namespace wallet::stress
