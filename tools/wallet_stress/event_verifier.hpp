// With --kafka-brokers: the `ledger-events` stream checked against the run. The topic's end
// offsets are taken before the run touches any account; afterwards the stream is consumed from
// there (at least once: deduplicated by event_id) until every account's events add up, or the
// wait runs out. Checks, per account of the run: its row events (in stream order) form a gap-free
// old -> new chain from its balance before the run, and end at the balance the driver expects;
// the holds its events leave pending sum to the amount the driver expects held.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/invariant.hpp"

namespace wallet::stress {

struct EventStreamStart {
  std::map<int32_t, int64_t> offsets;  // partition -> end offset before the run
  std::string error;                   // empty when the offsets are known
};

EventStreamStart ledger_events_start(const std::string& brokers, const std::string& topic);

std::vector<InvariantResult> verify_event_stream(
    const std::string& brokers, const std::string& topic, const EventStreamStart& start,
    const std::vector<Account>& accounts, const std::vector<int64_t>& expected_minor,
    const std::vector<int64_t>& expected_held_minor, double wait_seconds);

}  // namespace wallet::stress
