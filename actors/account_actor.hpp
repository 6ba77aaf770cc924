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
#include <optional>
#include <string>
#include <variant>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"

namespace wallet::actors {

struct AccountContext {
  caf::actor writer;
  caf::actor registry;
  std::shared_ptr<persistence::LedgerBackend> backend;
  size_t max_stash = 10'000;
};

struct AccountState {
  enum class Phase { unloaded, loading, ready, locked, missing };
  using Work = std::variant<DepositCommand, ReserveRequest, BalanceQuery,
                            // release 2
                            WithdrawCommand, HoldCommand, VoidCommand, ExpireHold, AvailableQuery>;

  std::string user_id;
  AccountContext context;
  Phase phase = Phase::unloaded;
  int64_t committed = 0;
  int64_t pending = 0;
  int in_flight = 0;
  bool dirty = false;                 // a commit failed: reload before the next mutation
  bool opened_while_loading = false;  // the account was created while a load was running
  bool sweep_armed = false;           // a timer will answer stashed work whose deadline passed
  std::string lock_owner;
  int64_t balance_before_lock = 0;
  std::deque<Work> stash;
  uint64_t handled = 0;
  int64_t last_activity_ms = 0;
  // When the account was found missing (actor clock): a request after kRecheckMissing looks again,
  // because another instance's consumer may have opened it (it cannot tell this one).
  caf::actor_clock::time_point missing_since{};

  // Release 2: holds this account pays. `holds` are the pending ones (including those handed to the
  // writer and not yet settled), `held` their sum; available = pending - held, and every debit
  // (transfer leg, withdrawal, new hold) is checked against it, so held <= pending always.
  std::map<std::string, persistence::HoldRecord> holds;
  int64_t held = 0;
  std::optional<persistence::HoldRecord> hold_before_lock;  // a capture's hold, until released

  static inline const char* name = "account";
};

caf::behavior account_actor(caf::stateful_actor<AccountState>* self, std::string user_id,
                            AccountContext context);

}  // namespace wallet::actors
