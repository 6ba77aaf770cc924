// HoldExpirySweeper: makes holds expire by themselves, whether or not their payer's
// actor is loaded (retired, or never used since a restart). Every 250 ms it asks storage for
// pending holds past expires_at and sends each an ExpireHold through the registry, which loads the
// payer if needed; the payer's actor closes the hold through the group commit. Account actors keep
// no timers of their own: a pending timer would keep a retired actor (and shutdown) waiting. One
// query at a time; it also publishes how many holds are pending (LedgerGauges::holds_pending).
// Beyond one machine: only holds whose payer lies in a partition this instance serves (`owned`;
// null: all of them), selected in the query so that others' overdue holds never crowd ours out;
// the others are their owners' to expire.
#pragma once

#include <caf/all.hpp>
#include <memory>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_records.hpp"
#include "persistence/owned_partitions.hpp"

namespace wallet::actors {

struct SweepResult {
  domain::Result<persistence::ExpirySweep> sweep{persistence::ExpirySweep{}};
};

struct SweeperState {
  std::shared_ptr<persistence::LedgerRecords> records;
  caf::actor registry;
  std::shared_ptr<LedgerGauges> gauges;
  std::shared_ptr<const persistence::OwnedPartitions> owned;
  static inline const char* name = "hold_expiry_sweeper";
};

caf::behavior hold_expiry_sweeper(caf::stateful_actor<SweeperState>* self,
                                  std::shared_ptr<persistence::LedgerRecords> records,
                                  caf::actor registry, std::shared_ptr<LedgerGauges> gauges,
                                  std::shared_ptr<const persistence::OwnedPartitions> owned);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::SweepResult)
