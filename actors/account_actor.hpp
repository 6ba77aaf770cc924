// AccountActor: the only place a balance changes. One per account, spawned by the AccountRegistry,
// it serializes deposits and transfer legs, keeps the balance in memory (committed and pending),
// and hands prepared rows to the LedgerWriter; its client is answered after the commit.
//
// Invariants relied on elsewhere:
// - pending == committed + the changes this actor handed to the writer that have not settled yet;
//   rows reach the writer in the order the actor applied them, so each account's
//   old_balance -> new_balance chain is gap-free in commit order.
// - While locked by a transfer, every other mutation waits in the stash (FIFO), so an aborted
//   reservation can be undone by restoring the balance before it.
// - After a failed commit the actor stops taking mutations, waits for its in-flight ones to settle
//   and for any transfer lock to be released, and reloads its balance from Postgres (which stays
//   the last word). Every path that can leave it settled, unlocked and dirty starts that reload.
// - A refusal (insufficient funds, balance limit) is decided only against committed state: while
//   mutations are in flight, one of them may still fail and give the money back, so work that
//   would be refused waits at the head of the stash until they settle. A stored 409 is therefore
//   always one that Postgres justified.
#pragma once

#include <caf/all.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "actors/epoch_clock.hpp"
#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/owned_partitions.hpp"

namespace wallet::actors {

struct AccountContext {
  caf::actor writer;
  caf::actor registry;
  std::shared_ptr<persistence::LedgerBackend> backend;
  size_t max_stash = 10'000;
  // Beyond one machine: the partitions this instance serves (null: it owns every account). A
  // refusal is decided only by the partition's owner, on a balance loaded under its current epoch.
  std::shared_ptr<const persistence::OwnedPartitions> owned;
  // What holds are stamped and judged by (LedgerOptions::epoch_ms).
  EpochClock epoch_ms = system_epoch_ms;
};

// A FIFO that holds no memory while empty. Most accounts are idle most of the time, and an empty
// std::deque already allocates its map and first node (about 580 bytes with Work's size): the
// queue exists only while something waits in it.
template <class T>
class Stash {
 public:
  bool empty() const { return !queue_ || queue_->empty(); }
  size_t size() const { return queue_ ? queue_->size() : 0; }
  T& front() { return queue_->front(); }
  template <class F>
  void each(F&& f) const {
    if (queue_) {
      for (const auto& item : *queue_) f(item);
    }
  }
  void push_back(T item) {
    if (!queue_) queue_ = std::make_unique<std::deque<T>>();
    queue_->push_back(std::move(item));
  }
  void push_front(T item) {
    if (!queue_) queue_ = std::make_unique<std::deque<T>>();
    queue_->push_front(std::move(item));
  }
  void pop_front() {
    queue_->pop_front();
    if (queue_->empty()) queue_.reset();
  }
  // Takes every item out, in order, leaving the stash empty.
  std::deque<T> take() {
    std::deque<T> all;
    if (queue_) all.swap(*queue_);
    queue_.reset();
    return all;
  }

 private:
  std::unique_ptr<std::deque<T>> queue_;
};

struct AccountState {
  enum class Phase : uint8_t { unloaded, loading, ready, locked, missing };
  using Work = std::variant<DepositCommand, ReserveRequest, BalanceQuery, WithdrawCommand,
                            HoldCommand, VoidCommand, ExpireHold, AvailableQuery, AccountUpdate>;

  // A transfer's reservation, while the account is locked by it (only then allocated).
  struct Lock {
    std::string owner;  // the transfer's id
    int64_t balance_before = 0;
  };

  // Laid out small: one actor per account, most of them idle (docs/performance.md, memory).
  std::string user_id;  // the account's id (a default account's is its user's)
  std::shared_ptr<const AccountContext> context;  // one for all accounts, the registry's
  // Loaded with the balance: the owner, the currency and its exponent, the overdraft
  // line (the balance may go down to minus it) and the status.
  std::string owner;
  std::string currency;
  int64_t overdraft = 0;
  int8_t exponent = 2;
  persistence::AccountStatus status = persistence::AccountStatus::open;
  int64_t committed = 0;
  int64_t pending = 0;
  int32_t in_flight = 0;
  uint32_t sweep_generation = 0;  // of the sweep timer under way: a superseded one is ignored
  Phase phase = Phase::unloaded;
  bool dirty = false;                 // a commit failed: reload before the next mutation
  bool opened_while_loading = false;  // the account was created while a load was running
  bool moved_while_loading = false;   // its partition changed hands while a load was running
  // When the earliest sweep timer under way fires (kNoDeadline: none): stashed work whose
  // deadline passed is answered then. Work reaches the actor in no strict order of deadlines (a
  // keyed request waits for its key's lookup first), so an earlier one arms a timer of its own.
  Deadline sweep_at = kNoDeadline;
  // Beyond one machine: the partition's epoch when the balance was last loaded (-1: loaded while
  // this instance did not serve it; 0 with a single owner).
  int64_t loaded_epoch = 0;
  std::unique_ptr<Lock> lock;  // set exactly while phase == locked
  Stash<Work> stash;
  uint64_t handled = 0;
  int64_t last_activity_ms = 0;
  // When the account was found missing (actor clock): a request after kRecheckMissing looks again,
  // because another instance's consumer may have opened it (it cannot tell this one).
  caf::actor_clock::time_point missing_since{};

  // Holds this account pays. `holds` are the pending ones (including those handed to the
  // writer and not yet settled), `held` their sum; available = pending - held, and every debit
  // (transfer leg, withdrawal, new hold) is checked against it, so held <= pending always.
  std::map<std::string, persistence::HoldRecord> holds;
  int64_t held = 0;
  // A capture's hold, until released (a pointer: an idle actor does not carry a HoldRecord's room).
  std::unique_ptr<persistence::HoldRecord> hold_before_lock;

  static inline const char* name = "account";
};

caf::behavior account_actor(caf::stateful_actor<AccountState>* self, std::string user_id,
                            std::shared_ptr<const AccountContext> context);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::AccountState::Work)
