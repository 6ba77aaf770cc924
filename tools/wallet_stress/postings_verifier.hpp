// The --postings checks in Postgres (--database-url), in one REPEATABLE READ snapshot of the run's
// accounts, rows, ledger_transactions and transaction_reversals, after money in transit (several
// instances) had up to --settle-wait seconds to land:
//   conservation  per currency: sum of the run's balances (+ in transit) = the run's @world
//                 deposits - withdrawals in its rows = what the driver's 201s say
//   zero sum      every transaction of the run nets to zero counting @world, and its rows match
//                 its postings in ledger_transactions (per account and per currency)
//   no partial    (postings_records.cpp) a 201 has every leg of every posting, a refusal left
//                 nothing, each key one outcome and one transaction
//   reversals     (postings_records.cpp) per original: what its reversals add up to stays within
//                 it, transaction_reversals agrees, racing reversals won at most what fits
//   accounts      the accounts checks' balance = sum of its rows and gap-free chain, over the
//                 run's accounts; and each stored balance = the driver's expectation
// --self-check-postings plants one defect per named check first (postings_defects.cpp).
#pragma once

#include <vector>

#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/postings_ledger.hpp"

namespace wallet::stress {

std::vector<InvariantResult> verify_postings_in_database(const PostingsCheckInput& in);

}  // namespace wallet::stress
