// AcrossOwners: transactions across owners in the two-owner schedules of the postings mode
// (actors/transaction_holds.cpp; DESIGN.md section 10), both ways: this instance coordinating
// with holds on the other instance (RemoteHoldOwner, what LedgerOptions::remote_holds reaches),
// and the other instance coordinating with holds placed here (RemoteCoordinator), with this
// instance's resolver (Ledger::resolve_transaction_holds) run at random steps and until quiet.
// Its checks are across_owners_check.hpp's, one of them at every commit point.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/ledger.hpp"
#include "test/simulation/client_op.hpp"
#include "test/simulation/remote_coordinator.hpp"
#include "test/simulation/remote_hold_owner.hpp"

namespace wallet::simulation {

class AcrossOwners {
 public:
  // `served_here`: whether this instance serves an account now (its resolver's partitions).
  AcrossOwners(uint64_t seed, OtherInstance other,
               std::function<bool(const std::string&)> served_here);

  // For LedgerOptions::remote_holds (before the Ledger is built).
  std::shared_ptr<actors::RemoteHolds> remote_holds() { return hold_owner_.remote_holds(); }
  // Once the Ledger is built: the other instance coordinates transactions paid by `payers`.
  void start(actors::Ledger* ledger, std::vector<std::string> payers,
             std::vector<std::string> payees);

  // A faulty step: the other instance's part, and now and then this instance's resolver.
  void step();
  // Time moved: placements past their `within` are answered 504.
  void expire() { hold_owner_.expire(); }
  // A quiet spell (every message delivered): the other instance answers its placements and
  // settles what it was told to. Returns how many things it did.
  int quiet() { return hold_owner_.busy() ? hold_owner_.quiesce() : 0; }
  // The fault-free phase: the other instance acts on everything and decides; this instance's
  // resolver runs once per moment of virtual time while it has pending holds of transactions.
  int quiesce();
  // Anything left to do: placements, settle requests, undecided placements, pending holds.
  bool busy() const;

  // After every commit of either instance: no transaction's debits applied in part.
  void after_commit();
  // At rest (or when the schedule did not settle: what it left); counts what was decided.
  void check(const std::vector<std::shared_ptr<ClientOp>>& ops,
             const std::function<void(std::string)>& fail, int& committed_here, int& aborted_here,
             int& committed_there, int& aborted_there) const;
  // check_transaction_refusals' excuse for transactions with payers served elsewhere.
  bool refusal_justified(const ClientOp& op,
                         const std::map<std::string, ModelRules>& initial) const;
  // Transactions the other instance coordinated (no client of this instance is told of them).
  bool coordinated_elsewhere(const std::string& transaction_id) const;

 private:
  void resolve_here();

  OtherInstance other_;
  std::function<bool(const std::string&)> served_here_;
  RemoteHoldOwner hold_owner_;
  std::optional<RemoteCoordinator> coordinator_;
  actors::Ledger* ledger_ = nullptr;
  std::mt19937_64 rng_;
  bool resolving_ = false;
  int64_t resolved_at_ms_ = -1;  // when quiesce last ran this instance's resolver
  uint64_t seed_ = 0;
  std::vector<std::string> failures_;  // what broke atomicity at a commit point (the first one)
};

}  // namespace wallet::simulation
