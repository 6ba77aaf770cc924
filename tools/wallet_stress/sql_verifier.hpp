// With --database-url: the ledger invariants of SPEC.md section 5 checked in Postgres for the
// run's accounts, in one REPEATABLE READ snapshot (the same SQL as the e2e tests' checks, kept
// here because tools do not link test code), plus the stored balances against the driver's own
// expectation from its 200 answers.
#pragma once

#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/invariant.hpp"

namespace wallet::stress {

std::vector<InvariantResult> verify_in_database(const std::string& database_url,
                                                const std::vector<Account>& accounts,
                                                const std::vector<int64_t>& expected_minor,
                                                const std::vector<int64_t>& expected_held_minor);

}  // namespace wallet::stress
