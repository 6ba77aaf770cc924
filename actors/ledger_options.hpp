// How a Ledger is configured (LedgerOptions: bounds, timers, the partitions it holds), and how it
// reaches the owners of a transaction's other payers (RemoteHolds). Included by actors/ledger.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/epoch_clock.hpp"
#include "actors/ledger_messages.hpp"
#include "persistence/owned_partitions.hpp"

namespace wallet::actors {

// Across owners (DESIGN.md section 10): how the instance that coordinates a transaction reaches
// the owners of its other payers (the service: a forwarded internal request over NATS; the
// simulation: its model of the other instance). Both may be called on any thread.
struct HoldPlacement {
  std::string hold_id;  // chosen by the coordinator
  std::string payer;
  std::string payee;
  int64_t amount = 0;  // minor units of `currency`
  std::string currency;
  std::string transaction_id;
  int posting = -1;
};
struct RemoteHolds {
  // Asks the payer's owner to place the hold: `done` gets its answer (201 with the hold, a
  // refusal, or any other failure, after which the hold may or may not stand).
  std::function<void(HoldPlacement, std::chrono::milliseconds within, std::function<void(Reply)>)>
      place;
  // Tells the payer's owner that the hold's transaction was decided (it settles the hold now
  // rather than when its resolver finds it); nothing is answered.
  std::function<void(const std::string& payer, const std::string& hold_id)> settle;
};

struct LedgerOptions {
  size_t max_batch = 512;
  std::chrono::milliseconds idle_after{60'000};
  size_t max_in_flight = 20'000;  // operations accepted but not answered; beyond: 429
  size_t max_stash_per_account = 10'000;
  size_t idempotency_cache = 100'000;
  std::chrono::seconds idempotency_ttl{24 * 3600};
  // A money operation not handed to the writer within this time of its arrival is dropped and
  // answered `503 timeout`; once handed over it always gets its real outcome.
  std::chrono::milliseconds request_deadline{5'000};
  // How often the background purge of expired idempotency outcomes runs when there is nothing to
  // purge (it goes on at once while it finds full batches). Zero: no purge (the simulation).
  std::chrono::milliseconds purge_every{60'000};
  bool sweep_holds = true;  // the expiry sweep of holds in Postgres
  // The clock holds are stamped and judged by: expires_at, overdue, the available balance read
  // from Postgres, and when a hold of a transaction is old enough to resolve. The system clock in
  // the service; the simulation's virtual one there (actors/epoch_clock.hpp).
  EpochClock epoch_ms = system_epoch_ms;
  std::function<void(std::chrono::microseconds, size_t)> on_commit;  // metrics hook
  // Beyond one machine: the partitions this instance holds (null: it owns every account). Money
  // work for an account it does not serve is refused 503 partition_moved (the HTTP layer routes it
  // to the owner first); reads of such accounts go to Postgres; a transfer to such an account
  // settles across owners (debit here, credit on the payee's owner).
  std::shared_ptr<persistence::OwnedPartitions> owned;
  // How often the payee side looks for credits in transit to the partitions it holds (the payer
  // side also wakes it through arrivals_due()). Zero: never (the simulation drives it itself).
  std::chrono::milliseconds arrivals_every{250};
  // How often the backend checks which database server it reaches (a failover makes every loaded
  // account reload). Only with a pool (the service; the simulation's model is one server).
  std::chrono::milliseconds server_check_every{1'000};
  // Without `owned`: the partitions whose credits in transit this instance applies anyway (an
  // instance that owns every partition, after a run of several; its receiver stops once nothing
  // is in transit, since it creates none; null: none).
  std::shared_ptr<const persistence::OwnedPartitions> arrivals_for;
  // Across owners: null, a transaction whose payers several instances serve is refused (422
  // accounts_across_owners). Set (its functions may be filled in after construction, before the
  // first request): such a transaction places holds on the other payers' owners.
  std::shared_ptr<RemoteHolds> remote_holds;
  // The owner's side: a hold of a transaction still pending this long after it was placed is
  // settled by its owner's resolver, which decides `abort` if nothing was decided (the
  // coordinator crashed, or took longer). Looked for every `resolve_every` (zero: never; the
  // simulation calls resolve_transaction_holds itself).
  std::chrono::milliseconds resolve_after{10'000};
  std::chrono::milliseconds resolve_every{1'000};
};

}  // namespace wallet::actors
