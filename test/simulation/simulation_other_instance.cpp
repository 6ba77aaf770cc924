// The other instance (sim-b) at work: its accounts, its commits in a partition given away to it,
// transfers and transactions it sends here, and the credits it applies of those sent to it.
#include <algorithm>
#include <set>
#include <vector>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

// Two owners: remote accounts live in partitions of the other instance (none shared with a
// local account or the unknown one), with money of their own.
void Simulation::choose_remote_accounts() {
  std::set<int> local;
  for (const auto& user : accounts_)
    local.insert(domain::partition_of(user, domain::kDefaultPartitions));
  for (const auto& user : second_)
    local.insert(domain::partition_of(user, domain::kDefaultPartitions));
  local.insert(domain::partition_of(unknown_, domain::kDefaultPartitions));
  for (int i = 90; i < 99 && remote_.size() < 2; ++i) {
    const auto id = account_id(i);
    const int partition = domain::partition_of(id, domain::kDefaultPartitions);
    if (local.count(partition)) continue;
    remote_.push_back(id);
    remote_partitions_.insert(partition);
    local.insert(partition);  // one remote account per partition
  }
  if (remote_.size() < 2) {
    remote_.clear();
    remote_partitions_.clear();
    return;
  }
  auto& shared = model_->shared_state();
  for (const auto& id : remote_) {
    shared.balances[id] = 50'000;  // 500.00
    history_[id].push_back({0, 50'000});
    initial_balance_[id] = 50'000;
    initial_total_ += 50'000;
  }
}

// The other instance at work, at random faulty steps: it sends a transfer from a remote account
// to a local one (its debit with the in-transit row: this instance's receiver must credit it
// exactly once), or credits what is in transit to its own accounts.
void Simulation::remote_step() {
  if (step_ == back_at_) take_back();
  if (step_ == notice_at_) send_move_notice();
  if (other_holds_away_ && return_rng_() % 100 < 8) commit_while_away();
  if (returning_partition_ >= 0 && return_rng_() % 100 < 40) retry_into(returning_partition_);
  const auto roll = transit_rng_() % 100;
  if (roll < 2) {
    send_incoming();
  } else if (roll < 5) {
    credit_remote_arrivals();
  } else if (roll < 6 && away_partition_ < 0 && returning_partition_ < 0) {
    give_away();
  }
}

// The other instance, holding the partition given away, deposits into (mostly: a stale memory
// then refuses what Postgres allows) or withdraws from one of its accounts.
void Simulation::commit_while_away() {
  std::vector<std::string> theirs;
  for (const auto& user : accounts_) {
    if (domain::partition_of(user, domain::kDefaultPartitions) == away_partition_) {
      theirs.push_back(user);
    }
  }
  if (theirs.empty()) return;
  auto& shared = model_->shared_state();
  const auto& user = theirs[return_rng_() % theirs.size()];
  if (options_.account_rules && rules_rng_() % 4 == 0) return change_rules_while_away(user);
  const bool deposit = return_rng_() % 4 != 0;
  const int64_t change = (deposit ? 1 : -1) * static_cast<int64_t>(1 + return_rng_() % 15) * 1'000;
  const int64_t balance = shared.balances.at(user);
  persistence::LedgerMutation mutation;
  mutation.entries.push_back(
      {domain::new_uuid_v4(), user, change, balance, balance + change,
       deposit ? persistence::EntryKind::deposit : persistence::EntryKind::withdrawal, ""});
  const persistence::OwnershipClaim claim{kOtherInstance, {{away_partition_, other_epoch_}}};
  shared.now_ms = now_ms();
  if (shared.commit({&mutation}, &claim, nullptr) != persistence::ApplyStatus::committed) {
    return;  // not enough money there: the other instance refuses it
  }
  foreign_rows_.insert(mutation.entries.front().id);
  note_foreign_commit();
  note(std::string(kOtherInstance) + (deposit ? " deposits " : " withdraws ") +
       money(deposit ? change : -change) + (deposit ? " into " : " from ") + user.substr(24));
}

// The other instance, holding the partition given away, freezes or unfreezes one of its
// accounts: what this instance remembers of that account's status is stale when it comes back.
void Simulation::change_rules_while_away(const std::string& user) {
  auto& shared = model_->shared_state();
  const auto status = shared.rules_of(user).status;
  if (status == persistence::AccountStatus::closed) return;
  // Its actor refuses to freeze an account paying in a transaction across owners (a pending
  // hold of a transaction): the capture must be able to apply once it is decided `commit`.
  const bool paying = std::any_of(shared.holds.begin(), shared.holds.end(), [&](const auto& h) {
    return h.second.from_user_id == user && h.second.status == "pending" &&
           !h.second.transaction_id.empty();
  });
  if (status == persistence::AccountStatus::open && paying) return;
  persistence::LedgerMutation mutation;
  persistence::AccountChange change;
  change.account_id = user;
  change.status = status == persistence::AccountStatus::frozen ? "open" : "frozen";
  mutation.account_changes.push_back(std::move(change));
  const persistence::OwnershipClaim claim{kOtherInstance, {{away_partition_, other_epoch_}}};
  shared.now_ms = now_ms();
  if (shared.commit({&mutation}, &claim, nullptr) != persistence::ApplyStatus::committed) return;
  note_foreign_commit();
  note(std::string(kOtherInstance) +
       (status == persistence::AccountStatus::frozen ? " unfreezes " : " freezes ") +
       user.substr(24));
}

// A commit of the other instance: no client of this one is answered for it, and the rules must
// hold after it too.
void Simulation::note_foreign_commit() {
  foreign_commits_.insert(model_->state().commits);
  record_available();
  check_rules_held_now();
  if (across_) across_->after_commit();
}

OtherInstance Simulation::other_instance() {
  OtherInstance other;
  other.model = model_.get();
  other.claim = [this] {
    auto claim = remote_claim_;
    if (moved_) claim.epochs.push_back({moved_partition_, moved_epoch_});
    if (away_served()) claim.epochs.push_back({away_partition_, other_epoch_});
    return claim;
  };
  other.accounts = remote_;
  other.serves = [this](const std::string& account) {
    const int partition = domain::partition_of(account, domain::kDefaultPartitions);
    return moved_account(account) || (away_served() && partition == away_partition_) ||
           std::find(remote_.begin(), remote_.end(), account) != remote_.end();
  };
  other.now_ms = [this] { return now_ms(); };
  other.note = [this](std::string line) { note(std::move(line)); };
  other.committed = [this](const persistence::LedgerMutation& mutation) {
    for (const auto& e : mutation.entries) foreign_rows_.insert(e.id);
    note("store: commit " + std::to_string(model_->state().commits) + " (sim-b)");
    note_foreign_commit();
  };
  return other;
}

// Whether the other instance settles holds of transactions in the partition given away to it
// (--across-away; see SimulationOptions::across_away).
bool Simulation::away_served() const { return options_.across_away && other_holds_away_; }

void Simulation::send_incoming() {
  auto& shared = model_->shared_state();
  const auto& payer = remote_[transit_rng_() % remote_.size()];
  const auto& payee = accounts_[transit_rng_() % accounts_.size()];
  const int64_t amount = static_cast<int64_t>(1 + transit_rng_() % 5) * 1'000;
  const int64_t balance = shared.balances.at(payer);
  int64_t held = 0;  // its payer's holds of transactions across owners
  for (const auto& [id, hold] : shared.holds) {
    if (hold.from_user_id == payer && hold.status == "pending") held += hold.amount;
  }
  if (balance - held < amount) return;
  // Its payee check (Ledger::start_transfer across owners) refuses a closed payee.
  if (shared.rules_of(payee).status == persistence::AccountStatus::closed) return;
  persistence::LedgerMutation debit;
  const std::string transfer_id = domain::new_uuid_v4();
  debit.entries.push_back({domain::new_uuid_v4(), payer, -amount, balance, balance - amount,
                           persistence::EntryKind::transfer_debit, transfer_id});
  debit.departures.push_back({transfer_id,
                              payer,
                              payee,
                              amount,
                              domain::partition_of(payee, domain::kDefaultPartitions),
                              {}});
  // Postings: half of them a transaction of one posting instead (its credit row names it).
  const bool posting = options_.postings && postings_rng_() % 2 == 0;
  if (posting) send_as_posting(debit);
  std::string why;
  if (shared.commit({&debit}, &remote_claim_, &why) != persistence::ApplyStatus::committed) {
    fail("the other instance could not send a transfer: " + why);
    return;
  }
  foreign_rows_.insert(debit.entries.front().id);
  note_foreign_commit();
  if (posting) {
    incoming_postings_.insert(debit.transactions.front().transaction_id);
    note(std::string(kOtherInstance) + " sends a transaction of " + money(amount) + " from " +
         payer.substr(24) + " to " + payee.substr(24) + " (" +
         debit.transactions.front().transaction_id.substr(0, 8) + ")");
    return;
  }
  incoming_.insert(transfer_id);
  note(std::string(kOtherInstance) + " sends " + money(amount) + " from " + payer.substr(24) +
       " to " + payee.substr(24) + " (in transit " + transfer_id.substr(0, 8) + ")");
}

// The other instance's transaction of one posting from its account to one of this instance's,
// as its posting coordinator commits it: the debit row and the transaction's record with the
// credit's in-transit row (this instance's receiver writes the credit row, naming them).
void Simulation::send_as_posting(persistence::LedgerMutation& debit) {
  const std::string transaction_id = domain::new_uuid_v4();
  auto& row = debit.entries.front();
  auto& leg = debit.departures.front();
  row.kind = persistence::EntryKind::posting_debit;
  row.transfer_id.clear();
  row.transaction_id = leg.transaction_id = transaction_id;
  row.posting = leg.posting = 0;
  persistence::TransactionRecord record;
  record.transaction_id = transaction_id;
  record.postings = postings_text({{leg.from_user_id, leg.to_user_id, leg.amount,
                                    model_->state().currency_of(leg.from_user_id)}});
  record.created_at = "2026-12-06T00:00:00.000Z";
  debit.transactions.push_back(std::move(record));
}

// The other instance credits every transfer in transit to its accounts; returns how many.
int Simulation::credit_remote_arrivals() {
  auto& shared = model_->shared_state();
  std::vector<persistence::InTransit> due;
  // Its own partitions, and the one it took from this instance in an owner change.
  auto claim = remote_claim_;
  if (moved_) claim.epochs.push_back({moved_partition_, moved_epoch_});
  for (const auto& [id, leg] : shared.in_transit) {
    if (remote_partitions_.count(leg.to_partition) ||
        (moved_ && leg.to_partition == moved_partition_)) {
      due.push_back(leg);
    }
  }
  for (const auto& leg : due) {
    persistence::LedgerMutation credit;
    const int64_t balance = shared.balances.at(leg.to_user_id);
    credit.entries.push_back({domain::new_uuid_v4(), leg.to_user_id, leg.amount, balance,
                              balance + leg.amount, persistence::EntryKind::transfer_credit,
                              leg.transfer_id});
    if (!leg.transaction_id.empty()) {
      // A posting's credit names its transaction and posting (as the arrival of
      // transfer_coordinator.cpp writes it).
      auto& entry = credit.entries.back();
      entry.kind = persistence::EntryKind::posting_credit;
      entry.transfer_id.clear();
      entry.transaction_id = leg.transaction_id;
      entry.posting = leg.posting;
    }
    credit.arrivals.push_back(leg);
    std::string why;
    if (shared.commit({&credit}, &claim, &why) != persistence::ApplyStatus::committed) {
      fail("the other instance could not credit " + leg.transfer_id + ": " + why);
      continue;
    }
    foreign_rows_.insert(credit.entries.front().id);
    note_foreign_commit();
    note(std::string(kOtherInstance) + " credits " + money(leg.amount) + " to " +
         leg.to_user_id.substr(24) + " (transfer " + leg.transfer_id.substr(0, 8) + ")");
  }
  return static_cast<int>(due.size());
}

}  // namespace wallet::simulation
