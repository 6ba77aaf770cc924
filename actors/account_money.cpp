// AccountActor's money movements: deposits, withdrawals, and a transfer's leg (reserved while
// the account is locked by the transfer, released when the transfer is submitted or aborted).
#include "actors/account_actor_internal.hpp"
#include "actors/ledger_outcomes.hpp"
#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"

namespace wallet::actors::account_internal {
namespace {

// A deposit's or a withdrawal's one row, from the balance the account's accepted operations leave
// (`pending`) to `updated`, handed to the writer; its answer (200, the new balance) goes at commit.
template <class Command>
void submit_one_row(Self self, Command& cmd, int64_t change, int64_t updated,
                    persistence::EntryKind kind) {
  auto& s = self->state;
  persistence::LedgerEntry entry{
      domain::new_uuid_v4(), s.user_id, change, s.pending, updated, kind, "", s.exponent};
  WriteRequest request;
  request.on_commit =
      Reply{domain::Deposited{s.user_id, entry.id, updated, answer_form(s, cmd.account_form)}};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.mutation.entries.push_back(std::move(entry));
  request.participants.emplace_back(caf::actor_cast<caf::actor>(self), updated);
  request.reply = std::move(cmd.reply);
  s.pending = updated;
  ++s.in_flight;
  self->send(s.context->writer, submit_atom::value, std::move(request));
}

}  // namespace

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
  submit_one_row(self, cmd, cmd.amount, updated, persistence::EntryKind::deposit);
}

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
  submit_one_row(self, cmd, -cmd.amount, s.pending - cmd.amount,
                 persistence::EntryKind::withdrawal);
}

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
    expire_overdue(self);  // holds past their expiry first
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

void release_lock(Self self, const std::string& transfer_id, bool submitted) {
  auto& s = self->state;
  if (s.phase != Phase::locked || !s.lock || s.lock->owner != transfer_id) return;
  ++s.handled;
  if (submitted) {
    ++s.in_flight;
  } else {
    s.pending = s.lock->balance_before;
    if (s.hold_before_lock) {  // an aborted capture gives its hold back
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
}

}  // namespace wallet::actors::account_internal
