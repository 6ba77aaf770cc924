// AccountActor's queue of work: what runs now and what waits in the stash (a refusal is decided
// only on settled state, and by the partition's owner), draining it in arrival order, settling
// commits, and answering `timeout` for stashed work whose deadline passed.
#include <algorithm>
#include <chrono>

#include "actors/account_actor_internal.hpp"
#include "domain/currency.hpp"
#include "domain/money.hpp"

namespace wallet::actors::account_internal {

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

namespace {

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
    if (overdue(s, hold)) held -= hold.amount;
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
    return it == s.holds.end() || overdue(s, it->second);
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

}  // namespace

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

namespace {

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

}  // namespace

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

void settle_commit(Self self, bool committed, int64_t new_balance) {
  auto& s = self->state;
  --s.in_flight;
  if (committed) {
    s.committed = new_balance;
  } else {
    s.dirty = true;
  }
  resync_if_settled(self);
  drain(self);
}

}  // namespace wallet::actors::account_internal
