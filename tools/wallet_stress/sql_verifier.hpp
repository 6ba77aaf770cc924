// With --database-url: the ledger invariants of SPEC.md section 5 checked in Postgres for the
// run's accounts, in one REPEATABLE READ snapshot (the same SQL as the e2e tests' checks, kept
// here because tools do not link test code), plus the stored balances against the driver's own
// expectation from its 200 answers. Section 7 (several instances): once transfers_in_transit
// exists (migration 007) conservation counts the money in transit, a transfer is its debit and
// (its credit xor its in-transit row), no transfer has two debits or two credits, and after up to
// settle_wait seconds nothing of the run is left in transit.
#pragma once

#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/invariant.hpp"

namespace wallet::stress {

struct InTransitOptions {
  double settle_wait_seconds = 10;  // how long transfers in transit get to land before the checks
  bool self_check_corrupt = false;  // --self-check-corrupt-in-transit
};

std::vector<InvariantResult> verify_in_database(const std::string& database_url,
                                                const std::vector<Account>& accounts,
                                                const std::vector<int64_t>& expected_minor,
                                                const std::vector<int64_t>& expected_held_minor,
                                                const InTransitOptions& in_transit);

}  // namespace wallet::stress
