// InTransitReceiver (beyond one machine, SPEC.md section 7): the payee side of transfers between
// owners. Every pass it reads from Postgres the transfers in transit to the partitions this
// instance serves, oldest first (through the LedgerBackend, so that the protocol simulation runs
// it over its model too), and has the Ledger apply each one's credit (a transfer is never
// applied twice at once here; a credit that failed, or whose partition moved, is simply found
// again by whoever serves its partition on a later pass: the in-transit row is the work list, and
// the credit's commit deletes it, so each is applied exactly once). Passes run every `every`, at
// once after a pass that found a full page of new work, and when woken (wake_atom: partitions were
// just taken). One query at a time; it also publishes the ledger-wide
// in-transit count and amount (LedgerGauges).
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/owned_partitions.hpp"

namespace wallet::actors {

struct InTransitPass {
  domain::Result<persistence::InTransitSummary> summary{persistence::InTransitSummary{}};
};

using CreditFn = std::function<void(persistence::InTransit, std::function<void(bool)>)>;

struct ReceiverState {
  std::shared_ptr<persistence::LedgerBackend> backend;
  std::shared_ptr<const persistence::OwnedPartitions> owned;
  CreditFn credit;
  std::shared_ptr<LedgerGauges> gauges;
  std::chrono::milliseconds every{250};
  std::set<std::string> applying;  // transfer_ids whose credit is being committed
  bool reading = false;
  bool again = false;  // woken while reading: pass again at once
  // An instance that owns every partition creates no transfers in transit: it only credits those
  // an earlier run of several instances left, and stops once none is left.
  bool until_empty = false;
  static inline const char* name = "in_transit_receiver";
};

caf::behavior in_transit_receiver(caf::stateful_actor<ReceiverState>* self,
                                  std::shared_ptr<persistence::LedgerBackend> backend,
                                  std::shared_ptr<const persistence::OwnedPartitions> owned,
                                  CreditFn credit, std::shared_ptr<LedgerGauges> gauges,
                                  std::chrono::milliseconds every, bool until_empty);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::InTransitPass)
