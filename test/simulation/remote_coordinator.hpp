// RemoteCoordinator: the other instance coordinating transactions across owners whose payers
// this instance serves (actors/transaction_holds.cpp, the owner's side). For each, it asks this
// instance to place the hold of its payer's posting as the internal route does
// (Ledger::create_hold with the transaction, the posting and the hold id it chose), then decides
// at a step the schedule chooses: `commit` once the hold stands (its commit: the transaction's
// record with the decision, and the rows of a posting of its own accounts when it has one; it
// loses to an `abort` recorded first), or `abort` (a refusal, an unknown answer, or before or
// while the hold is placed). It tells this instance to settle the hold
// (Ledger::settle_transaction_hold) sometimes, at a later step; this instance's resolver
// (Ledger::resolve_transaction_holds, which the simulation calls) settles the rest.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/ledger.hpp"
#include "test/simulation/other_instance.hpp"

namespace wallet::simulation {

class RemoteCoordinator {
 public:
  // `payers`: accounts this instance serves; `payees`: any account (either instance's).
  RemoteCoordinator(uint64_t seed, OtherInstance other, actors::Ledger* ledger,
                    std::vector<std::string> payers, std::vector<std::string> payees)
      : rng_(seed),
        other_(std::move(other)),
        ledger_(ledger),
        payers_(std::move(payers)),
        payees_(std::move(payees)) {}

  // A faulty step: perhaps starts a transaction, decides one, or tells this instance to settle.
  void step();
  // Fault-free: decides every transaction whose hold was answered, tells this instance to settle
  // each once; returns how many things it did.
  int quiesce();
  // A placement this instance has not answered yet.
  bool busy() const;
  // The transactions it coordinated.
  const std::set<std::string>& transactions() const { return ids_; }

 private:
  struct Foreign {
    std::string transaction_id;
    std::string hold_id;
    std::vector<actors::Posting> postings;
    int held = 0;          // the posting paid by the hold
    int answer = 0;        // the placement's status (0: not answered yet)
    bool decided = false;  // it wrote (or tried to write) its decision
    bool settle = false;   // it will tell this instance to settle, once decided
  };
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }
  void start();
  void decide(Foreign& t, bool commit);
  void tell_settle(Foreign& t);

  std::mt19937_64 rng_;
  OtherInstance other_;
  actors::Ledger* ledger_;
  std::vector<std::string> payers_;
  std::vector<std::string> payees_;
  std::vector<std::shared_ptr<Foreign>> foreign_;
  std::set<std::string> ids_;
};

}  // namespace wallet::simulation
