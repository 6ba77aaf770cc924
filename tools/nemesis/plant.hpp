// Negative controls: a defect planted in a copy of the history or the snapshot, which the checker
// must flag (a checker that cannot fail proves nothing). Each is realistic, not a typo: the rest of
// the data stays consistent, so only the property under test can catch it.
//   lost-write      an acknowledged deposit's row removed, later rows and the balance recomputed
//                   as if it had never committed (caught by lost-write and money-conserved)
//   doubled-credit  an acknowledged transfer's credit applied a second time at the end of the
//                   payee's chain, balance included (caught by applied-twice and money-conserved)
//   stale-read      a read added after every op completed that returns a balance the account had
//                   left before (caught by stale-read)
#pragma once

#include <string>
#include <vector>

#include "tools/nemesis/history.hpp"
#include "tools/nemesis/snapshot.hpp"

namespace wallet::nemesis {

// Plants `defect` (names above); returns what it did, or throws when the run has nothing to
// plant it on (e.g. no acknowledged transfer).
std::string plant(const std::string& defect, std::vector<Op>& ops, Snapshot& snapshot);

// The property a defect must trip.
std::string property_caught_by(const std::string& defect);

}  // namespace wallet::nemesis
