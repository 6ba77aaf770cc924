// The checks of --reads schedules (reads_client.hpp), at rest, against the model's committed
// rows (which are never deleted, each with where and when it committed):
// - every read is answered exactly once;
// - read-your-writes: a history page (or page of an account's rows) sent after a client was
//   answered 200/201 for a money operation shows that operation's rows on the account (where the
//   page reaches them); a read answered with an error is fine, one that answered must not miss;
// - a page shows only rows that committed before it was answered, with their committed values,
//   newest first, all older than its `before` cursor;
// - balance_at: now, the sum of the account's committed rows when answered; at a past instant,
//   the sum of those committed at or before it (plus the balance the account started with);
// - ledger totals: per currency, the accounts hold the sum of their rows, in transit is what the
//   model held then, and @world balances them;
// - an in-transit summary never lists a transfer whose credit committed before the read was sent;
// - the partitions list is whole, in order, and no epoch goes back from one answer to the next.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/reads_client.hpp"

namespace wallet::simulation {

// What the reads of a schedule exercised (counted in wallet-simulate's summary).
struct ReadsTally {
  int answered = 0;
  int failed = 0;          // answered with an error (a store fault, or not modelled)
  int writes_checked = 0;  // acknowledged rows a later page had to show
};

std::vector<std::string> check_reads(const std::vector<std::shared_ptr<ReadOp>>& reads,
                                     const std::vector<std::shared_ptr<ClientOp>>& ops,
                                     const ModelState& state,
                                     const std::map<std::string, int64_t>& initial, int partitions,
                                     uint64_t seed, ReadsTally* tally);

}  // namespace wallet::simulation
