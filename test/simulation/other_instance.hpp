// The other instance of the two-owner schedules, as the across-owners models see it
// (remote_hold_owner.hpp, remote_coordinator.hpp): the shared model store, the claim it commits
// under (its partitions), its accounts, the virtual clock, and how the simulation hears of its
// commits (foreign rows, the rules and atomicity checks after each commit) and writes its trace.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "persistence/ledger_types.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

struct OtherInstance {
  ModelLedger* model = nullptr;
  // Its partitions, at their epochs (with one it took from this instance in an owner change).
  std::function<persistence::OwnershipClaim()> claim;
  std::vector<std::string> accounts;  // its own accounts
  // Whether it serves an account now: its own, and those of a partition it took.
  std::function<bool(const std::string&)> serves;
  std::function<int64_t()> now_ms;
  std::function<void(std::string)> note;
  // After each of its commits (the simulation counts its rows as foreign, and checks).
  std::function<void(const persistence::LedgerMutation&)> committed;

  // Commits `mutation` as the other instance (through the fence, at the virtual time now).
  persistence::ApplyStatus commit(const persistence::LedgerMutation& mutation,
                                  std::string* why) const {
    auto& shared = model->shared_state();
    shared.now_ms = now_ms();
    const auto current = claim();
    const auto status = shared.commit({&mutation}, &current, why);
    if (status == persistence::ApplyStatus::committed) committed(mutation);
    return status;
  }
};

}  // namespace wallet::simulation
