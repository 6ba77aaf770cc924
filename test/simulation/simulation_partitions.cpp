// Partitions that move under the simulated instance: another instance takes one (the fence's
// test), the group gives one away and back, and the registry hears of it.
#include <algorithm>
#include <caf/all.hpp>
#include <optional>
#include <vector>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

using namespace std::chrono_literals;

bool Simulation::moved_account(const std::string& user) const {
  return moved_ && domain::partition_of(user, domain::kDefaultPartitions) == moved_partition_;
}

// Another instance takes the partition of one account (its epoch bumped), unknown to the
// simulated one, and may commit a deposit there as its new owner, through the same fence.
void Simulation::change_owner() {
  auto& shared = model_->shared_state();
  const auto& user = accounts_[owner_rng_() % accounts_.size()];
  // Not a partition the group has just moved away (this instance must claim it, at the epoch
  // the other instance's take makes stale, for the fence check below to mean anything).
  const int partition = domain::partition_of(user, domain::kDefaultPartitions);
  if (partition == away_partition_ || partition == returning_partition_) return;
  moved_partition_ = domain::partition_of(user, domain::kDefaultPartitions);
  const int64_t epoch = shared.take_partition(moved_partition_, kOtherInstance);
  moved_epoch_ = epoch;
  moved_ = true;
  note("owner change: partition " + std::to_string(moved_partition_) + " (account " +
       user.substr(24) + ") taken by " + kOtherInstance + " at epoch " + std::to_string(epoch));
  if (owner_rng_() % 2 != 0) return;
  // A closed account takes no deposit: the new owner's actor refuses it.
  if (shared.rules_of(user).status == persistence::AccountStatus::closed) return;
  persistence::LedgerMutation deposit;
  const int64_t balance = shared.balances.at(user);
  deposit.entries.push_back({domain::new_uuid_v4(), user, 5'000, balance, balance + 5'000,
                             persistence::EntryKind::deposit, ""});
  const persistence::OwnershipClaim claim{kOtherInstance, {{moved_partition_, epoch}}};
  std::string why;
  if (shared.commit({&deposit}, &claim, &why) != persistence::ApplyStatus::committed) {
    fail("the new owner could not commit in its own partition: " + why);
    return;
  }
  foreign_rows_.insert(deposit.entries.front().id);
  note_foreign_commit();
  note(std::string(kOtherInstance) + " deposits 50.00 into " + user.substr(24));
}

// The group moves one of this instance's partitions away and, some steps later, back (as a
// cooperative rebalance does when an instance joins and leaves): given up (stops serving,
// idle actors retire) at once, then taken again at a new epoch (its actors still loaded must
// reload). Commits in flight with the old epoch are fenced, as they would be.
void Simulation::give_away() {
  const auto& user = accounts_[transit_rng_() % accounts_.size()];
  const int partition = domain::partition_of(user, domain::kDefaultPartitions);
  if (moved_ && partition == moved_partition_) return;
  away_partition_ = partition;
  back_at_ = step_ + 1 + static_cast<int>(transit_rng_() % 60);
  note("the group moves partition " + std::to_string(partition) + " away from sim-a");
  ledger_->give_up_partitions({partition}, 0ms);
  set_claimed(partition, std::nullopt);
  if (options_.returns && return_rng_() % 4 != 0) {
    // Another instance takes it meanwhile and moves money of its accounts: what this instance
    // still remembers of them is stale when the partition comes back.
    other_epoch_ = model_->shared_state().take_partition(partition, kOtherInstance);
    other_holds_away_ = true;
    note(std::string(kOtherInstance) + " takes partition " + std::to_string(partition) +
         " at epoch " + std::to_string(other_epoch_));
    commit_while_away();
  }
}

void Simulation::take_back() {
  auto& shared = model_->shared_state();
  const int partition = away_partition_;
  away_partition_ = back_at_ = -1;
  const int64_t epoch = shared.take_partition(partition, kThisInstance);
  set_claimed(partition, epoch);
  note("the group gives partition " + std::to_string(partition) + " back to sim-a at epoch " +
       std::to_string(epoch));
  other_holds_away_ = false;
  if (!options_.notice_after_serving) {
    // As Ledger::take_partitions does it: the registry hears first, then the partition is
    // served (sometimes while its actors are being retired).
    retire_as_notice_comes(partition);
    note("sim-a serves partition " + std::to_string(partition) + " (its registry told first)");
    ledger_->serve_partition(partition, epoch);
    return;
  }
  // The negative control: served at once, the registry told some steps later, so requests
  // admitted in between reach actors that have not heard of the move.
  owned_->hold(partition, epoch);
  returning_partition_ = partition;
  notice_at_ = options_.returns ? step_ + static_cast<int>(return_rng_() % 12) : step_;
  if (notice_at_ == step_) send_move_notice();
}

// A client whose request was refused while the partition was away retries as soon as it is
// served again (before the registry has heard it, possibly).
void Simulation::retry_into(int partition) {
  if (static_cast<int>(ops_.size()) >= options_.max_operations) return;
  std::vector<const std::string*> theirs;
  for (const auto& user : accounts_) {
    if (domain::partition_of(user, domain::kDefaultPartitions) == partition)
      theirs.push_back(&user);
  }
  if (!theirs.empty()) send_operation(theirs[return_rng_() % theirs.size()]);
}

// The registry hears that the partition is back; sometimes while its actors are being retired
// (the registry's `retiring` entries).
void Simulation::send_move_notice() {
  const int partition = returning_partition_;
  returning_partition_ = notice_at_ = -1;
  retire_as_notice_comes(partition);
  note("sim-a's registry hears that partition " + std::to_string(partition) + " is back");
  caf::anon_send(ledger_->registry_for_tests(), actors::moved_atom::value, partition,
                 domain::kDefaultPartitions, true);
}

// Sometimes the partition's accounts are being retired as the notice comes (the registry's
// `retiring` entries).
void Simulation::retire_as_notice_comes(int partition) {
  if (!options_.returns || return_rng_() % 3 != 0) return;
  for (const auto& user : accounts_) {
    if (domain::partition_of(user, domain::kDefaultPartitions) != partition) continue;
    note("retire " + user.substr(24) + " as the notice comes");
    ledger_->retire(user);
  }
}

// The claim the simulated instance's commits carry, for one partition (none: not claimed).
void Simulation::set_claimed(int partition, std::optional<int64_t> epoch) {
  if (options_.unfenced) return;
  auto claim = model_->claim();
  claim.epochs.erase(std::remove_if(claim.epochs.begin(), claim.epochs.end(),
                                    [partition](const auto& e) { return e.first == partition; }),
                     claim.epochs.end());
  if (epoch) claim.epochs.push_back({partition, *epoch});
  model_->set_claim(std::move(claim));
}

// With two owners the schedule ends as the group would end it: the simulated instance hears
// that the moved partition is gone (it stops serving it and drops it from its claim), so that
// the credits in transit to its other accounts can land; the other instance credits those of
// the moved partition. Its commits count against the fence only before this.
void Simulation::learn_of_the_move() {
  learned_ = true;
  note("sim-a hears that partition " + std::to_string(moved_partition_) + " moved");
  ledger_->give_up_partitions({moved_partition_}, 0ms);
  set_claimed(moved_partition_, std::nullopt);
}

}  // namespace wallet::simulation
