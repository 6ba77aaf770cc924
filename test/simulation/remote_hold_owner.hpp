// RemoteHoldOwner: the other instance as the owner of the payers this instance does not serve, in
// transactions across owners this instance coordinates (actors/transaction_holds.cpp). It is what
// LedgerOptions::remote_holds reaches: a placement is answered once, at a step the schedule
// chooses (or with 504 at its `within`, the internal route's timeout, while its owner may still
// place it later): placed (201), refused as the payer's actor would refuse it (409
// insufficient_funds, 422 currency_mismatch), placed with its answer lost (504), or not placed
// (503). A settle request is acted on at a later step, or lost. Its own resolver settles the
// holds of its payers that waited long enough, deciding `abort` first when nothing was decided.
// Settling follows the decision: `commit` captures (the posting's debit row, the hold captured,
// and the credit row, or the credit in transit to this instance's payee), `abort` voids.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/ledger.hpp"
#include "test/simulation/other_instance.hpp"

namespace wallet::simulation {

class RemoteHoldOwner {
 public:
  RemoteHoldOwner(uint64_t seed, OtherInstance other);

  // For LedgerOptions::remote_holds.
  std::shared_ptr<actors::RemoteHolds> remote_holds() { return remote_holds_; }
  // A faulty step: perhaps answers a placement, acts on a settle request, or runs the resolver.
  void step();
  // Answers, with 504, every placement whose `within` has passed (at any moment time moves).
  void expire();
  // Fault-free: acts on everything it was asked and settles what its resolver finds due; returns
  // how many things it did (0: nothing to do now).
  int quiesce();
  // Placements or settle requests not acted on yet.
  bool busy() const { return !placing_.empty() || !settles_.empty(); }
  // The transactions whose holds this instance's coordinator asked it to place.
  const std::set<std::string>& transactions() const { return transactions_; }
  // The payers whose holds it was asked to place.
  const std::set<std::string>& payers() const { return payers_; }

 private:
  struct Placing {
    actors::HoldPlacement placement;
    int64_t due_ms = 0;  // its `within`: answered 504 then, if not before
    std::function<void(actors::Reply)> done;
    bool answered = false;
  };
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }
  void place(size_t index, bool faults);
  // The payer's owner decides the placement as its actor would; nullopt: the hold was committed.
  std::optional<actors::Reply> place_hold(const actors::HoldPlacement& placement);
  // Settles a pending hold of a transaction as its decision says (`force`: decides `abort` first
  // when nothing was decided). True when a commit settled it.
  bool settle(const std::string& hold_id, bool force);
  int resolve(bool all);

  std::mt19937_64 rng_;
  OtherInstance other_;
  std::shared_ptr<actors::RemoteHolds> remote_holds_;
  std::vector<Placing> placing_;
  std::vector<std::string> settles_;       // hold ids the coordinator told it to settle
  std::map<std::string, int64_t> placed_;  // hold id -> when it placed it (virtual ms)
  std::set<std::string> transactions_;
  std::set<std::string> payers_;
  int64_t resolve_after_ms_ = 0;  // its LedgerOptions::resolve_after
};

}  // namespace wallet::simulation
