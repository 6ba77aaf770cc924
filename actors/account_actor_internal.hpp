// Private to AccountActor's files (actors/account_*.cpp): the steps of one account's protocol that
// more than one of them takes. Nothing outside the account actor includes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/account_actor.hpp"
#include "actors/ledger_outcomes.hpp"

namespace wallet::actors::account_internal {

using Self = caf::stateful_actor<AccountState>*;
using Phase = AccountState::Phase;
using persistence::AccountStatus;

// Loading, resync and moves (actors/account_loading.cpp).
// The system clock, for last_activity_ms (an inspection figure nothing compares with a hold's).
int64_t now_ms();
// The clock holds are stamped and judged by (AccountContext::epoch_ms): the store's sweep judges
// expires_at by its own now(), which the simulation makes the actor clock, so this one must be too.
int64_t hold_now_ms(const AccountState& s);
int64_t current_epoch(Self self);
void start_load(Self self);
void resync_if_settled(Self self);
void on_loaded(Self self, LoadResult& loaded);
void on_moved(Self self);
void on_opened(Self self);

// The account's rules (actors/account_rules.cpp).
domain::Error timed_out();
domain::Error not_found(const std::string& user_id);
bool names_other_account(const AccountState& s, bool account_form);
domain::Error closed_error(const std::string& account_id);
std::optional<domain::Error> debit_refusal(const AccountState& s);
AnswerForm answer_form(const AccountState& s, bool account_form);
void update_account(Self self, AccountUpdate& cmd);

// Work whose deadline passed before it could be executed is answered `timeout`: nothing changed.
template <class T>
bool past_deadline(Self self, T& cmd) {
  if (self->clock().now() <= cmd.deadline) return false;
  cmd.reply(timeout_reply());
  return true;
}

// Money movements (actors/account_money.cpp).
void deposit(Self self, DepositCommand& cmd);
void withdraw(Self self, WithdrawCommand& cmd);
void reserve(Self self, ReserveRequest& request);
void release_lock(Self self, const std::string& transfer_id, bool submitted);

// Holds (actors/account_holds.cpp).
void submit_hold_mutation(Self self, WriteRequest request);
void create_hold(Self self, HoldCommand& cmd);
bool overdue(const AccountState& s, const persistence::HoldRecord& hold);
void expire(Self self, const std::string& hold_id);
void expire_overdue(Self self);
void void_hold(Self self, VoidCommand& cmd);
bool take_hold_for_capture(Self self, ReserveRequest& request);
void answer_available(Self self, AvailableQuery& query);
void load_holds(Self self, std::vector<persistence::HoldRecord> holds);

// The account's queue of work (actors/account_work.cpp).
void refuse_reserve(Self self, const ReserveRequest& request, domain::Error error);
void fail(Self self, AccountState::Work& work, const domain::Error& error);
void drain(Self self);
void sweep_expired(Self self);
void accept(Self self, AccountState::Work work);
void settle_commit(Self self, bool committed, int64_t new_balance);

}  // namespace wallet::actors::account_internal
