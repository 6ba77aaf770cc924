// The retention checks (issue 23, "retention counted from the stored outcome's time"): an outcome
// is replayed only to a request sent while it was younger than the idempotency TTL, counted from
// when it was stored
// (not from when this process learned it), and a key is executed anew only once its earlier
// outcome has passed that retention.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// `log`: every outcome the store ever held, in commit order, with its virtual creation time.
std::vector<std::string> check_retention(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                         const std::vector<StoredOutcome>& log, int64_t ttl_ms);

// The stored outcome that the answer to `op` is (same key, request, status and body, stored
// before the answer; the latest such one, so that the checks above excuse rather than blame);
// null when there is none.
const StoredOutcome* outcome_answered(const ClientOp& op, const std::vector<StoredOutcome>& log);

}  // namespace wallet::simulation
