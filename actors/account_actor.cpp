#include "actors/account_actor.hpp"

#include <algorithm>
#include <chrono>

#include "actors/ledger_outcomes.hpp"
#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/partitioning.hpp"

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<AccountState>*;
using Phase = AccountState::Phase;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Beyond one machine: the epoch under which this instance serves the account's partition now, -1
// when it does not serve it, 0 with a single owner.
int64_t current_epoch(Self self) {
  const auto& owned = self->state.context->owned;
  if (!owned) return 0;
  return owned->serving_epoch(domain::partition_of(self->state.user_id, owned->partitions()))
      .value_or(-1);
}

void start_load(Self self) {
  auto& s = self->state;
  s.phase = Phase::loading;
  s.loaded_epoch = current_epoch(self);
  auto me = caf::actor_cast<caf::actor>(self);
  auto user_id = s.user_id;
  using Account = std::optional<persistence::AccountRecord>;
  s.context->backend->load_account(user_id, [me](domain::Result<Account> result) {
    LoadResult loaded;
    if (!result) {
      loaded.balance = result.error();
    } else if (result.value()) {
      loaded.balance = std::optional<int64_t>{result.value()->balance};
      loaded.holds = std::move(result.value()->pending_holds);
      loaded.rules = std::move(*result.value());
    }
    caf::anon_send(me, loaded_atom::value, std::move(loaded));
  });
}

domain::Error timed_out() {
  return {domain::ErrorCode::timeout,
          "the request's deadline passed before it could be executed; nothing changed, retry"};
}

domain::Error not_found(const std::string& user_id) {
  return {domain::ErrorCode::user_not_found, "no account for user " + user_id};
}

// ---- The account's rules ---------------------------------------------------------------------

using persistence::AccountStatus;

// The user-id form (release 1 and 2) names a user's default account only: another account's id
// there is no user.
bool names_other_account(const AccountState& s, bool account_form) {
  return !account_form && !s.owner.empty() && s.owner != s.user_id;
}

domain::Error closed_error(const std::string& account_id) {
  return {domain::ErrorCode::account_closed, "account " + account_id + " is closed"};
}
domain::Error frozen_error(const std::string& account_id) {
  return {domain::ErrorCode::account_frozen,
          "account " + account_id + " is frozen: it only receives money"};
}

// Why the account cannot be debited (a withdrawal, a transfer out, a new hold), if it cannot.
std::optional<domain::Error> debit_refusal(const AccountState& s) {
  if (s.status == AccountStatus::closed) return closed_error(s.user_id);
  if (s.status == AccountStatus::frozen) return frozen_error(s.user_id);
  return std::nullopt;
}

AnswerForm answer_form(const AccountState& s, bool account_form) {
  AnswerForm form;
  form.exponent = s.exponent;
  if (account_form) {
    form.currency = s.currency;
    form.from_owner = s.owner;
  }
  return form;
}

void refuse_reserve(Self self, const ReserveRequest& request, domain::Error error) {
  LegReservation refusal;
  refusal.transfer_id = request.transfer_id;
  refusal.user_id = request.user_id;
  refusal.refusal = std::move(error);
  self->send(request.coordinator, reserved_atom::value, std::move(refusal));
}

// Answers work that cannot be done now, whatever kind it is.
void fail(Self self, AccountState::Work& work, const domain::Error& error) {
  std::visit(
      [&](auto& item) {
        using T = std::decay_t<decltype(item)>;
        if constexpr (std::is_same_v<T, DepositCommand> || std::is_same_v<T, WithdrawCommand> ||
                      std::is_same_v<T, HoldCommand> || std::is_same_v<T, VoidCommand> ||
                      std::is_same_v<T, AccountUpdate>) {
          item.reply(error_reply(error.code, error.message));
        } else if constexpr (std::is_same_v<T, ReserveRequest>) {
          refuse_reserve(self, item, error);
        } else if constexpr (std::is_same_v<T, ExpireHold>) {
          // Nothing to answer: the sweeper or the next load tries again.
        } else {
          item.reply(error);
        }
      },
      work);
}

// Work whose deadline passed before it could be executed is answered `timeout`: nothing changed.
template <class T>
bool past_deadline(Self self, T& cmd) {
  if (self->clock().now() <= cmd.deadline) return false;
  cmd.reply(timeout_reply());
  return true;
}

void deposit(Self self, DepositCommand& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  if (names_other_account(s, cmd.account_form))
    return cmd.reply(
        error_reply(domain::ErrorCode::user_not_found, "no account for user " + s.user_id));
  if (s.status == AccountStatus::closed) {
    return reject(self, s.context->writer, cmd.tag, closed_error(s.user_id), cmd.reply,
                  cmd.deadline);
  }
  int64_t updated = 0;
  if (!domain::checked_add(s.pending, cmd.amount, updated) ||
      updated > domain::max_balance_minor(s.exponent)) {
    reject(
        self, s.context->writer, cmd.tag,
        {domain::ErrorCode::balance_limit_exceeded, "the deposit would exceed the balance limit"},
        cmd.reply, cmd.deadline);
    return;
  }
  persistence::LedgerEntry entry{
      domain::new_uuid_v4(),           s.user_id, cmd.amount, s.pending, updated,
      persistence::EntryKind::deposit, "",        s.exponent};
  WriteRequest request;
  request.on_commit =
      Reply{200, deposit_body(s.user_id, entry.id, updated, answer_form(s, cmd.account_form))};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.mutation.entries.push_back(std::move(entry));
  request.participants.emplace_back(caf::actor_cast<caf::actor>(self), updated);
  request.reply = std::move(cmd.reply);
  s.pending = updated;
  ++s.in_flight;
  self->send(s.context->writer, submit_atom::value, std::move(request));
}

// ---- Release 2: withdrawals and holds -------------------------------------------------------

domain::Error hold_not_pending(const std::string& hold_id) {
  return {domain::ErrorCode::hold_not_pending,
          "hold " + hold_id + " is not pending (captured, voided or expired)"};
}

// Hands a hold-only mutation (no ledger row) to the writer; the balance is unchanged.
void submit_hold_mutation(Self self, WriteRequest request) {
  auto& s = self->state;
  request.participants.emplace_back(caf::actor_cast<caf::actor>(self), s.pending);
  ++s.in_flight;
  self->send(s.context->writer, submit_atom::value, std::move(request));
}

void expire_overdue(Self self);

void withdraw(Self self, WithdrawCommand& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  if (names_other_account(s, cmd.account_form))
    return cmd.reply(
        error_reply(domain::ErrorCode::user_not_found, "no account for user " + s.user_id));
  if (auto refusal = debit_refusal(s)) {
    return reject(self, s.context->writer, cmd.tag, *refusal, cmd.reply, cmd.deadline);
  }
  expire_overdue(self);
  if (s.pending + s.overdraft - s.held < cmd.amount) {
    reject(self, s.context->writer, cmd.tag,
           {domain::ErrorCode::insufficient_funds, "insufficient funds (available balance)"},
           cmd.reply, cmd.deadline);
    return;
  }
  const int64_t updated = s.pending - cmd.amount;
  persistence::LedgerEntry entry{domain::new_uuid_v4(),
                                 s.user_id,
                                 -cmd.amount,
                                 s.pending,
                                 updated,
                                 persistence::EntryKind::withdrawal,
                                 "",
                                 s.exponent};
  WriteRequest request;
  request.on_commit =
      Reply{200, deposit_body(s.user_id, entry.id, updated, answer_form(s, cmd.account_form))};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.mutation.entries.push_back(std::move(entry));
  request.participants.emplace_back(caf::actor_cast<caf::actor>(self), updated);
  request.reply = std::move(cmd.reply);
  s.pending = updated;
  ++s.in_flight;
  self->send(s.context->writer, submit_atom::value, std::move(request));
}

void create_hold(Self self, HoldCommand& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  if (names_other_account(s, cmd.account_form))
    return cmd.reply(
        error_reply(domain::ErrorCode::user_not_found, "no account for user " + s.user_id));
  if (auto refusal = debit_refusal(s)) {
    return reject(self, s.context->writer, cmd.tag, *refusal, cmd.reply, cmd.deadline);
  }
  if (!cmd.currency.empty() && cmd.currency != s.currency) {
    return cmd.reply(error_reply(
        domain::ErrorCode::currency_mismatch,
        "account " + s.user_id + " holds " + s.currency + ", its posting moves " + cmd.currency));
  }
  expire_overdue(self);
  if (s.pending + s.overdraft - s.held < cmd.amount) {
    reject(self, s.context->writer, cmd.tag,
           {domain::ErrorCode::insufficient_funds, "insufficient funds (available balance)"},
           cmd.reply, cmd.deadline);
    return;
  }
  persistence::HoldRecord hold;
  hold.hold_id = cmd.hold_id.empty() ? domain::new_uuid_v4() : cmd.hold_id;
  hold.from_user_id = s.user_id;
  hold.to_user_id = cmd.to_user_id;
  hold.amount = cmd.amount;
  hold.exponent = s.exponent;
  hold.transaction_id = cmd.transaction_id;
  hold.posting = cmd.posting;
  // A hold of a transaction across owners waits for the transaction's decision, however long.
  hold.expires_at_ms = cmd.transaction_id.empty() ? now_ms() + cmd.timeout_seconds * 1000
                                                  : persistence::kNeverExpiresMs;
  WriteRequest request;
  auto form = answer_form(s, cmd.account_form);
  form.to_owner = cmd.to_owner;
  request.on_commit =
      Reply{201, hold_created_body(hold, s.pending + s.overdraft - s.held - cmd.amount, form)};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.mutation.new_holds.push_back(hold);
  request.reply = std::move(cmd.reply);
  s.held += hold.amount;
  s.holds.emplace(hold.hold_id, std::move(hold));
  submit_hold_mutation(self, std::move(request));
}

// Closes a pending hold without moving money (void, expiry).
void close_hold(Self self, const std::string& hold_id, const char* status, WriteRequest request) {
  auto& s = self->state;
  auto it = s.holds.find(hold_id);
  s.held -= it->second.amount;
  s.holds.erase(it);
  request.mutation.hold_changes.push_back(
      persistence::HoldChange{hold_id, status, "", 0, s.exponent});
  submit_hold_mutation(self, std::move(request));
}

// Expiry has no timer in the actor (a pending timer would keep a retired actor alive): the
// HoldExpirySweeper sends ExpireHold for every overdue pending hold in Postgres within 250 ms,
// and a debit closes the overdue holds of its account before it checks the available balance.
bool overdue(const persistence::HoldRecord& hold) { return now_ms() >= hold.expires_at_ms; }

void expire(Self self, const std::string& hold_id) {
  auto& s = self->state;
  auto it = s.holds.find(hold_id);
  if (it == s.holds.end()) return;   // closed meanwhile (or by a capture being reserved)
  if (!overdue(it->second)) return;  // not yet by this clock: the sweeper asks again
  WriteRequest request;
  request.reply = [](Reply) {};  // nobody waits for an expiry
  close_hold(self, hold_id, "expired", std::move(request));
}

// Closes every overdue hold of this account (before a debit decides on the available balance).
void expire_overdue(Self self) {
  std::vector<std::string> due;
  for (const auto& [hold_id, hold] : self->state.holds) {
    if (overdue(hold)) due.push_back(hold_id);
  }
  for (const auto& hold_id : due) expire(self, hold_id);
}

void void_hold(Self self, VoidCommand& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  auto it = s.holds.find(cmd.hold_id);
  if (it == s.holds.end() || overdue(it->second)) {
    if (it != s.holds.end()) expire(self, cmd.hold_id);
    reject(self, s.context->writer, cmd.tag, hold_not_pending(cmd.hold_id), cmd.reply,
           cmd.deadline);
    return;
  }
  WriteRequest request;
  request.on_commit = Reply{200, void_body(cmd.hold_id)};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.reply = std::move(cmd.reply);
  close_hold(self, cmd.hold_id, "voided", std::move(request));
}

// A capture's debit leg: the hold it consumes leaves the pending set while the account is locked
// (restored if the transfer is released unsubmitted). False when refused.
bool take_hold_for_capture(Self self, ReserveRequest& request) {
  auto& s = self->state;
  auto it = s.holds.find(request.hold_id);
  if (it == s.holds.end() || overdue(it->second) || request.amount > it->second.amount) {
    refuse_reserve(self, request,
                   it != s.holds.end() && !overdue(it->second)
                       ? domain::Error{domain::ErrorCode::invalid_amount,
                                       "the capture exceeds the held amount"}
                       : hold_not_pending(request.hold_id));
    return false;
  }
  s.held -= it->second.amount;
  s.hold_before_lock = std::make_unique<persistence::HoldRecord>(std::move(it->second));
  s.holds.erase(it);
  return true;
}

void answer_available(Self self, AvailableQuery& query) {
  const auto& s = self->state;
  // The committed balance; available from it, never above it, while debits may be in flight.
  int64_t held = s.held;
  for (const auto& [hold_id, hold] : s.holds) {
    if (overdue(hold)) held -= hold.amount;  // available again, even before the sweeper closes it
  }
  const int64_t available =
      std::max<int64_t>(0, std::min(s.committed, s.pending) + s.overdraft - held);
  query.reply(BalanceFigures{s.committed, available, s.exponent});
}

void load_holds(Self self, std::vector<persistence::HoldRecord> holds) {
  auto& s = self->state;
  s.holds.clear();
  s.held = 0;
  s.hold_before_lock.reset();
  for (auto& hold : holds) {
    s.held += hold.amount;
    s.holds.emplace(hold.hold_id, std::move(hold));
  }
}

// PATCH /accounts/{id}. Decided on committed state only (it waits until nothing is
// in flight: must_wait_for_settlement), applied in memory at once so that every later operation
// sees the new rules, and committed through the writer; a failed commit reloads them.
void update_account(Self self, AccountUpdate& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  auto refuse = [&cmd](domain::ErrorCode code, std::string message) {
    cmd.reply(error_reply(code, std::move(message)));
  };
  if (s.status == AccountStatus::closed) {
    return refuse(domain::ErrorCode::account_closed,
                  "account " + s.user_id + " is closed; a closed account never reopens");
  }
  // A closed account holds nothing and owes nothing: its line goes with it.
  if (cmd.status == AccountStatus::closed) cmd.overdraft_limit = 0;
  const int64_t limit = cmd.overdraft_limit.value_or(s.overdraft);
  if (cmd.status == AccountStatus::closed && (s.pending != 0 || !s.holds.empty())) {
    return refuse(domain::ErrorCode::account_not_empty,
                  "only an account with balance 0 and no pending hold can be closed");
  }
  if (cmd.status == AccountStatus::frozen &&
      std::any_of(s.holds.begin(), s.holds.end(),
                  [](const auto& held) { return !held.second.transaction_id.empty(); })) {
    // Its hold in a transaction across owners may be decided `commit` any moment, and its
    // capture must then apply: a frozen account could not pay it.
    return refuse(domain::ErrorCode::unavailable,
                  "account " + s.user_id +
                      " pays in a transaction across owners being decided; retry in a moment");
  }
  if (s.pending + limit < 0) {
    return refuse(domain::ErrorCode::limit_below_debt,
                  "the overdraft limit would be below the account's current debt");
  }
  if (s.pending + limit < s.held) {
    return refuse(domain::ErrorCode::limit_below_debt,
                  "the overdraft limit would leave pending holds without cover");
  }
  persistence::AccountChange change;
  change.account_id = s.user_id;
  if (cmd.status) change.status = persistence::account_status_name(*cmd.status);
  change.overdraft_limit = cmd.overdraft_limit;
  change.metadata = cmd.metadata;
  change.exponent = s.exponent;
  change.change_id = domain::new_uuid_v4();
#ifndef WALLET_PROTOCOL_BUG_STALE_STATUS  // negative control of the simulation (test-only build)
  if (cmd.status) s.status = *cmd.status;
#endif
  s.overdraft = limit;
  WriteRequest request;
  request.on_commit = Reply{200, ""};
  request.mutation.account_changes.push_back(std::move(change));
  request.reply = std::move(cmd.reply);
  submit_hold_mutation(self, std::move(request));  // no ledger row; the balance is unchanged
}

// ---- end of release 2 ------------------------------------------------------------------------

void reserve(Self self, ReserveRequest& request) {
  auto& s = self->state;
  if (self->clock().now() > request.deadline) {
    refuse_reserve(self, request, timed_out());
    return;
  }
  if (names_other_account(s, request.account_form)) {
    return refuse_reserve(self, request, not_found(s.user_id));
  }
  if (request.role == LegRole::debit || request.pays) {
    if (auto refusal = debit_refusal(s)) return refuse_reserve(self, request, *refusal);
  } else if (s.status == AccountStatus::closed) {
    return refuse_reserve(self, request, closed_error(s.user_id));
  }
  if (!request.hold_id.empty() && request.role == LegRole::debit &&
      !take_hold_for_capture(self, request)) {
    return;
  }
  int64_t updated = 0;
  if (request.role == LegRole::debit) {
    expire_overdue(self);  // release 2
    if (s.pending + s.overdraft - s.held < request.amount) {
      refuse_reserve(self, request, {domain::ErrorCode::insufficient_funds, "insufficient funds"});
      return;
    }
    updated = s.pending - request.amount;
  } else if (!domain::checked_add(s.pending, request.amount, updated) ||
             updated > domain::max_balance_minor(s.exponent)) {
    refuse_reserve(self, request,
                   {domain::ErrorCode::balance_limit_exceeded,
                    "the transfer would exceed the recipient's balance limit"});
    return;
  }
  LegReservation leg;
  leg.transfer_id = request.transfer_id;
  leg.user_id = s.user_id;
  leg.account = caf::actor_cast<caf::actor>(self);
  const bool debit = request.role == LegRole::debit;
  leg.entry = persistence::LedgerEntry{
      domain::new_uuid_v4(),
      s.user_id,
      debit ? -request.amount : request.amount,
      s.pending,
      updated,
      debit ? persistence::EntryKind::transfer_debit : persistence::EntryKind::transfer_credit,
      request.transfer_id,
      s.exponent};
  leg.currency = s.currency;
  leg.owner = s.owner;
  s.lock = std::make_unique<AccountState::Lock>(AccountState::Lock{request.transfer_id, s.pending});
  s.pending = updated;
  s.phase = Phase::locked;
  self->send(request.coordinator, reserved_atom::value, std::move(leg));
}

void process(Self self, AccountState::Work& work) {
  std::visit(
      [&](auto& item) {
        using T = std::decay_t<decltype(item)>;
        if constexpr (std::is_same_v<T, DepositCommand>) {
          deposit(self, item);
        } else if constexpr (std::is_same_v<T, ReserveRequest>) {
          reserve(self, item);
        } else if constexpr (std::is_same_v<T, WithdrawCommand>) {
          withdraw(self, item);
        } else if constexpr (std::is_same_v<T, HoldCommand>) {
          create_hold(self, item);
        } else if constexpr (std::is_same_v<T, VoidCommand>) {
          void_hold(self, item);
        } else if constexpr (std::is_same_v<T, ExpireHold>) {
          expire(self, item.hold_id);
        } else if constexpr (std::is_same_v<T, AvailableQuery>) {
          if (names_other_account(self->state, item.account_form)) {
            return item.reply(not_found(item.user_id));
          }
          answer_available(self, item);
        } else if constexpr (std::is_same_v<T, AccountUpdate>) {
          update_account(self, item);
        } else if (names_other_account(self->state, false)) {
          item.reply(not_found(item.user_id));
        } else {
          item.reply(self->state.committed);
        }
      },
      work);
}

bool accepts_mutations(const AccountState& s) {
  return s.phase == Phase::ready && !s.dirty && s.stash.empty();
}

// What the account could spend once its overdue holds are closed (as every debit closes them
// first).
int64_t available_after_expiry(const AccountState& s) {
  int64_t held = s.held;
  for (const auto& [hold_id, hold] : s.holds) {
    if (overdue(hold)) held -= hold.amount;
  }
  return s.pending + s.overdraft - held;
}

// True when processing `work` now would refuse it: insufficient funds (against the available
// balance), a balance limit, a hold that is not pending (or a capture beyond it).
bool would_be_refused(const AccountState& s, const AccountState::Work& work) {
  int64_t updated = 0;
  auto over_limit = [&s, &updated](int64_t amount) {
    return !domain::checked_add(s.pending, amount, updated) ||
           updated > domain::max_balance_minor(s.exponent);
  };
  auto hold_closed = [&s](const std::string& hold_id) {
    auto it = s.holds.find(hold_id);
    return it == s.holds.end() || overdue(it->second);
  };
  // The account's rules (its status may still change back if an update in flight
  // fails; an update itself is always decided on settled state).
  const bool debits_refused = s.status != AccountStatus::open;
  if (std::holds_alternative<AccountUpdate>(work)) return true;
  if (const auto* cmd = std::get_if<DepositCommand>(&work)) {
    return s.status == AccountStatus::closed || over_limit(cmd->amount);
  }
  if (const auto* cmd = std::get_if<WithdrawCommand>(&work)) {
    return debits_refused || available_after_expiry(s) < cmd->amount;
  }
  if (const auto* cmd = std::get_if<HoldCommand>(&work)) {
    return debits_refused || available_after_expiry(s) < cmd->amount;
  }
  if (const auto* cmd = std::get_if<VoidCommand>(&work)) {
#ifdef WALLET_PROTOCOL_BUG_EARLY_HOLD_REFUSAL  // negative control of the simulation (test-only)
    return false;
#endif
    return hold_closed(cmd->hold_id);
  }
  if (const auto* request = std::get_if<ReserveRequest>(&work)) {
    if (request->role == LegRole::credit) {
      return s.status == AccountStatus::closed || (request->pays && debits_refused) ||
             over_limit(request->amount);
    }
    if (debits_refused) return true;
    if (request->hold_id.empty()) return available_after_expiry(s) < request->amount;
    // A capture: its hold must be pending and hold the amount; the hold's money is then free.
    if (hold_closed(request->hold_id)) return true;
    const int64_t hold_amount = s.holds.at(request->hold_id).amount;
    return request->amount > hold_amount ||
           available_after_expiry(s) + hold_amount < request->amount;
  }
  return false;
}

// A refusal is decided only against committed state: work that would be refused while mutations
// are still in flight (whose commits may yet fail and give money or a hold back) waits at the
// head of the stash until they settle; so does everything behind it (arrival order).
bool must_wait_for_settlement(const AccountState& s, const AccountState::Work& work) {
#ifdef WALLET_PROTOCOL_BUG_EARLY_REFUSAL  // negative control of the simulation (test-only build)
  return false;
#endif
  return s.in_flight > 0 && would_be_refused(s, work);
}

void resync_if_settled(Self self);
void arm_sweep_for(Self self, Deadline deadline);
Deadline deadline_of(const AccountState::Work& work);

// Beyond one machine, a refusal is a decision about money that only the partition's owner may make,
// and only on a balance loaded under the epoch it serves now: the account may have moved away and
// back (another owner committing meanwhile) while this work was on its way, and the move notice
// may come after it. Mutations need no such check (Postgres refuses one built on a stale balance).
// Otherwise the work runs now.
void decide(Self self, AccountState::Work& work) {
#ifndef WALLET_PROTOCOL_BUG_REFUSAL_ON_OLD_EPOCH  // negative control (test-only build)
  auto& s = self->state;
  if (s.context->owned && would_be_refused(s, work)) {
    const int64_t epoch = current_epoch(self);
    if (epoch < 0) {
      fail(self, work,
           {domain::ErrorCode::partition_moved,
            "this account's partition moved to another instance; nothing changed, retry"});
      return;
    }
    if (epoch != s.loaded_epoch) {
      // Loaded under another epoch: reload, then decide (this work first).
      const Deadline deadline = deadline_of(work);
      if (deadline < self->clock().now()) return fail(self, work, timed_out());
      s.stash.push_front(std::move(work));
      arm_sweep_for(self, deadline);
      s.dirty = true;
      resync_if_settled(self);
      return;
    }
  }
#endif
  process(self, work);
}

// Runs stashed work in arrival order until the stash is empty, a transfer locks the account, or
// the head must wait for in-flight mutations to settle.
void drain(Self self) {
  auto& s = self->state;
  while (!s.stash.empty() && s.phase == Phase::ready && !s.dirty &&
         !must_wait_for_settlement(s, s.stash.front())) {
    auto work = std::move(s.stash.front());
    s.stash.pop_front();
    decide(self, work);
  }
}

// The one place a dirty account starts its reload: once nothing is in flight and no transfer holds
// it. Called after every event that can make those true (settled, release).
void resync_if_settled(Self self) {
  auto& s = self->state;
  if (s.dirty && s.in_flight == 0 && s.phase == Phase::ready) start_load(self);
}

// A missing account is looked up again by a request this long after it was found missing: with
// several instances the user-created event may be consumed by another one, whose notice does not
// reach this instance's actors.
constexpr std::chrono::milliseconds kRecheckMissing{500};

Deadline deadline_of(const AccountState::Work& work) {
  if (const auto* cmd = std::get_if<DepositCommand>(&work)) return cmd->deadline;
  if (const auto* request = std::get_if<ReserveRequest>(&work)) return request->deadline;
  if (const auto* cmd = std::get_if<WithdrawCommand>(&work)) return cmd->deadline;
  if (const auto* cmd = std::get_if<HoldCommand>(&work)) return cmd->deadline;
  if (const auto* cmd = std::get_if<VoidCommand>(&work)) return cmd->deadline;
  if (const auto* query = std::get_if<BalanceQuery>(&work)) return query->deadline;
  if (const auto* query = std::get_if<AvailableQuery>(&work)) return query->deadline;
  if (const auto* cmd = std::get_if<AccountUpdate>(&work)) return cmd->deadline;
  return kNoDeadline;
}

// One timer per account with stashed work, set for the earliest deadline among it (plus a
// millisecond, so that it has passed when the timer fires). A fixed period (it was 250 ms) cost
// every busy account four timers a second, each two wake-ups of CAF's clock thread: half a context
// switch per transfer under load, for work that almost always drains long before its deadline.
void arm_sweep_for(Self self, Deadline deadline) {
  auto& s = self->state;
  if (deadline == kNoDeadline || deadline >= s.sweep_at) return;
  s.sweep_at = deadline;
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - self->clock().now()) +
      std::chrono::milliseconds(1);
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), timeout_atom::value,
                     ++s.sweep_generation);
}

// After a sweep: a timer for the earliest deadline still stashed.
void arm_sweep(Self self) {
  Deadline earliest = kNoDeadline;
  self->state.stash.each(
      [&](const AccountState::Work& work) { earliest = std::min(earliest, deadline_of(work)); });
  arm_sweep_for(self, earliest);
}

// Stashed work has not reached the writer: once its deadline passed it is answered `timeout`
// (nothing changed), so a stalled load or a long queue never leaves a client without an answer.
void sweep_expired(Self self) {
  auto& s = self->state;
  s.sweep_at = kNoDeadline;  // a later timer may still come: it finds nothing due
  const auto now = self->clock().now();
  for (auto& work : s.stash.take()) {
    if (deadline_of(work) < now) {
      fail(self, work, timed_out());
    } else {
      s.stash.push_back(std::move(work));
    }
  }
  if (!s.stash.empty()) arm_sweep(self);
  drain(self);
}

void accept(Self self, AccountState::Work work) {
  auto& s = self->state;
  ++s.handled;
  s.last_activity_ms = now_ms();
  const bool is_query =
      std::holds_alternative<BalanceQuery>(work) || std::holds_alternative<AvailableQuery>(work);
  if (s.phase == Phase::missing && self->clock().now() - s.missing_since >= kRecheckMissing) {
    s.phase = Phase::unloaded;  // look again (below): it may have been opened meanwhile
  }
  if (s.phase == Phase::missing) {
    fail(self, work, not_found(s.user_id));
  } else if (is_query && !s.dirty && (s.phase == Phase::ready || s.phase == Phase::locked)) {
    // A dirty account (a failed commit, a moved partition, a failover) answers once reloaded:
    // its memory may hold a balance the database does not.
    process(self, work);
  } else if (accepts_mutations(s) && !must_wait_for_settlement(s, work)) {
    decide(self, work);
  } else if (s.stash.size() >= s.context->max_stash) {
    fail(self, work,
         {domain::ErrorCode::too_many_requests, "this account is overloaded, retry later"});
  } else if (deadline_of(work) < self->clock().now()) {
    fail(self, work, timed_out());  // it would only wait for its sweep: nothing changed
  } else {
    const Deadline deadline = deadline_of(work);
    s.stash.push_back(std::move(work));
    arm_sweep_for(self, deadline);
    if (s.phase == Phase::unloaded) start_load(self);
  }
}

const char* state_name(const AccountState& s) {
  switch (s.phase) {
    case Phase::unloaded:
      return "unloaded";  // the next request loads it (a pending resync included)
    case Phase::loading:
      return s.dirty ? "resyncing" : "loading";
    case Phase::missing:
      return "missing";
    case Phase::locked:
      return "waiting_on_transfer";
    case Phase::ready:
      if (s.dirty) return "resyncing";
      return (s.in_flight > 0 || !s.stash.empty()) ? "busy" : "idle";
  }
  return "idle";
}

}  // namespace

caf::behavior account_actor(caf::stateful_actor<AccountState>* self, std::string user_id,
                            std::shared_ptr<const AccountContext> context) {
  self->state.user_id = std::move(user_id);
  self->state.context = std::move(context);
  self->state.last_activity_ms = now_ms();
  return {
      // Every command the registry routes here (deposit, reserve, balance, withdraw, hold, void,
      // expire, available), in one handler: one behavior per account actor, so each handler less
      // is memory less on every live account.
      [=](work_atom, AccountState::Work& work) { accept(self, std::move(work)); },
      [=](loaded_atom, LoadResult& loaded) {
        auto& s = self->state;
        if (!loaded.balance) {
          // Postgres is unreachable: answer what waits, and try again on the next request.
          s.phase = Phase::unloaded;
          s.moved_while_loading = false;  // the next load reads after the move anyway
          for (auto& work : s.stash.take()) fail(self, work, loaded.balance.error());
          return;
        }
        if (s.moved_while_loading) {
          // The partition changed hands while this load ran: it may have read before the last
          // owner's final commits (or this instance's fence took effect). Read again.
          s.moved_while_loading = false;
          start_load(self);
          return;
        }
        s.dirty = false;
        if (!loaded.balance.value() && s.opened_while_loading) {
          // The load may have read before the account's row committed: look again.
          s.opened_while_loading = false;
          start_load(self);
          return;
        }
        s.opened_while_loading = false;
        if (!loaded.balance.value()) {
          s.phase = Phase::missing;
          s.missing_since = self->clock().now();
          for (auto& work : s.stash.take()) fail(self, work, not_found(s.user_id));
          return;
        }
        s.committed = s.pending = *loaded.balance.value();
        s.owner = std::move(loaded.rules.user_id);
        s.currency = std::move(loaded.rules.currency);
        s.exponent = static_cast<int8_t>(loaded.rules.exponent);
        s.overdraft = loaded.rules.overdraft_limit;
        s.status = loaded.rules.status;
        load_holds(self, std::move(loaded.holds));
        s.phase = Phase::ready;
        drain(self);
      },
      [=](release_atom, const std::string& transfer_id, bool submitted) {
        auto& s = self->state;
        if (s.phase != Phase::locked || !s.lock || s.lock->owner != transfer_id) return;
        ++s.handled;
        if (submitted) {
          ++s.in_flight;
        } else {
          s.pending = s.lock->balance_before;
          if (s.hold_before_lock) {  // release 2: an aborted capture gives its hold back
            s.held += s.hold_before_lock->amount;
            auto hold = std::move(*s.hold_before_lock);
            s.holds.emplace(hold.hold_id, std::move(hold));
          }
        }
        s.hold_before_lock.reset();
        s.lock.reset();
        s.phase = Phase::ready;
    // A commit of this account may have failed while it was locked: reload now, or nothing
    // ever will and its stash waits forever.
#ifndef WALLET_PROTOCOL_BUG_WEDGE  // negative control of the simulation (test-only build)
        resync_if_settled(self);
#endif
        drain(self);
      },
      [=](settled_atom, bool committed, int64_t new_balance) {
        auto& s = self->state;
        --s.in_flight;
        if (committed) {
          s.committed = new_balance;
        } else {
          s.dirty = true;
        }
        resync_if_settled(self);
        drain(self);
      },
      [=](timeout_atom, uint32_t generation) {
        // A timer superseded by one for an earlier deadline: that one sweeps.
        if (generation == self->state.sweep_generation) sweep_expired(self);
      },
      [=](moved_atom) {
        // Beyond one machine: this account's partition changed hands, so its balance may have
        // moved elsewhere: reload once nothing of ours is in flight.
        auto& s = self->state;
#ifndef WALLET_PROTOCOL_BUG_MOVE_LOST_WHILE_LOADING  // negative control (test-only build)
        if (s.phase == Phase::loading) s.moved_while_loading = true;
#endif
        if (s.phase == Phase::ready && !s.dirty && s.in_flight == 0 && s.stash.empty()) {
          // Idle: forget the balance and load it when work comes (a failover tells every loaded
          // account at once; loading them all now would flood the pool for nothing).
          s.phase = Phase::unloaded;
          return;
        }
        if (s.phase != Phase::unloaded && s.phase != Phase::missing) s.dirty = true;
        resync_if_settled(self);
      },
      [=](opened_atom) {
        auto& s = self->state;
        if (s.phase == Phase::missing) s.phase = Phase::unloaded;
        if (s.phase == Phase::loading) s.opened_while_loading = true;
      },
      [=](inspect_atom, const caf::actor& collector) {
        const auto& s = self->state;
        AccountSnapshot snapshot{
            s.user_id,      state_name(s), s.committed, s.pending,         self->mailbox().size(),
            s.stash.size(), s.handled,     s.in_flight, s.last_activity_ms};
        snapshot.holds_pending = s.holds.size();
        snapshot.held = s.held;
        snapshot.currency = s.currency;
        snapshot.exponent = s.exponent;
        self->send(collector, snapshot_atom::value, std::move(snapshot));
      },
      [=](retire_atom) {
        const auto& s = self->state;
        const bool idle =
            (s.phase == Phase::ready || s.phase == Phase::missing || s.phase == Phase::unloaded) &&
            s.in_flight == 0 && s.stash.empty() && !s.dirty;
        self->send(s.context->registry, retired_atom::value, s.user_id, idle);
        if (idle) self->quit();
      },
  };
}

}  // namespace wallet::actors
