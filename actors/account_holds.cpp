// AccountActor's holds, the ones this account pays: placing one, voiding it, its expiry, a
// capture taking it, and the available balance they leave (available = pending - held).
#include <algorithm>

#include "actors/account_actor_internal.hpp"
#include "actors/ledger_outcomes.hpp"
#include "domain/ids.hpp"

namespace wallet::actors::account_internal {
namespace {

domain::Error hold_not_pending(const std::string& hold_id) {
  return {domain::ErrorCode::hold_not_pending,
          "hold " + hold_id + " is not pending (captured, voided or expired)"};
}

}  // namespace

// Hands a hold-only mutation (no ledger row) to the writer; the balance is unchanged.
void submit_hold_mutation(Self self, WriteRequest request) {
  auto& s = self->state;
  request.participants.emplace_back(caf::actor_cast<caf::actor>(self), s.pending);
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
  hold.expires_at_ms = cmd.transaction_id.empty() ? hold_now_ms(s) + cmd.timeout_seconds * 1000
                                                  : persistence::kNeverExpiresMs;
  WriteRequest request;
  auto form = answer_form(s, cmd.account_form);
  form.to_owner = cmd.to_owner;
  request.on_commit = Reply{
      domain::HoldPlaced{hold.hold_id, hold.from_user_id, hold.to_user_id, hold.amount,
                         hold.expires_at_ms, s.pending + s.overdraft - s.held - cmd.amount, form}};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.mutation.new_holds.push_back(hold);
  request.reply = std::move(cmd.reply);
  s.held += hold.amount;
  s.holds.emplace(hold.hold_id, std::move(hold));
  submit_hold_mutation(self, std::move(request));
}

namespace {

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

}  // namespace

// Expiry has no timer in the actor (a pending timer would keep a retired actor alive): the
// HoldExpirySweeper sends ExpireHold for every overdue pending hold in Postgres within 250 ms,
// and a debit closes the overdue holds of its account before it checks the available balance.
bool overdue(const AccountState& s, const persistence::HoldRecord& hold) {
  return hold_now_ms(s) >= hold.expires_at_ms;
}

void expire(Self self, const std::string& hold_id) {
  auto& s = self->state;
  auto it = s.holds.find(hold_id);
  if (it == s.holds.end()) return;      // closed meanwhile (or by a capture being reserved)
  if (!overdue(s, it->second)) return;  // not yet by this clock: the sweeper asks again
  WriteRequest request;
  request.reply = [](Reply) {};  // nobody waits for an expiry
  close_hold(self, hold_id, "expired", std::move(request));
}

// Closes every overdue hold of this account (before a debit decides on the available balance).
void expire_overdue(Self self) {
  std::vector<std::string> due;
  for (const auto& [hold_id, hold] : self->state.holds) {
    if (overdue(self->state, hold)) due.push_back(hold_id);
  }
  for (const auto& hold_id : due) expire(self, hold_id);
}

void void_hold(Self self, VoidCommand& cmd) {
  auto& s = self->state;
  if (past_deadline(self, cmd)) return;
  auto it = s.holds.find(cmd.hold_id);
  if (it == s.holds.end() || overdue(s, it->second)) {
    if (it != s.holds.end()) expire(self, cmd.hold_id);
    reject(self, s.context->writer, cmd.tag, hold_not_pending(cmd.hold_id), cmd.reply,
           cmd.deadline);
    return;
  }
  WriteRequest request;
  request.on_commit = Reply{domain::HoldVoided{cmd.hold_id}};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.reply = std::move(cmd.reply);
  close_hold(self, cmd.hold_id, "voided", std::move(request));
}

// A capture's debit leg: the hold it consumes leaves the pending set while the account is locked
// (restored if the transfer is released unsubmitted). False when refused.
bool take_hold_for_capture(Self self, ReserveRequest& request) {
  auto& s = self->state;
  auto it = s.holds.find(request.hold_id);
  if (it == s.holds.end() || overdue(s, it->second) || request.amount > it->second.amount) {
    refuse_reserve(self, request,
                   it != s.holds.end() && !overdue(s, it->second)
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
    if (overdue(s, hold)) held -= hold.amount;  // available again before the sweeper closes it
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

}  // namespace wallet::actors::account_internal
