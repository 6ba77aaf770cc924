// AccountActor's rules: who the account is (the user-id form names default accounts only), what
// its status lets it do, how its answers name it, and PATCH /accounts/{id} changing them.
#include <algorithm>

#include "actors/account_actor_internal.hpp"
#include "actors/ledger_outcomes.hpp"
#include "domain/ids.hpp"

namespace wallet::actors::account_internal {

domain::Error timed_out() {
  return {domain::ErrorCode::timeout,
          "the request's deadline passed before it could be executed; nothing changed, retry"};
}

domain::Error not_found(const std::string& user_id) {
  return {domain::ErrorCode::user_not_found, "no account for user " + user_id};
}

// The user-id form (user_id, from_user_id/to_user_id) names a user's default account only: another
// account's id there is no user.
bool names_other_account(const AccountState& s, bool account_form) {
  return !account_form && !s.owner.empty() && s.owner != s.user_id;
}

domain::Error closed_error(const std::string& account_id) {
  return {domain::ErrorCode::account_closed, "account " + account_id + " is closed"};
}

namespace {

domain::Error frozen_error(const std::string& account_id) {
  return {domain::ErrorCode::account_frozen,
          "account " + account_id + " is frozen: it only receives money"};
}

}  // namespace

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
  request.on_commit = Reply{domain::Encoded{200, ""}};  // http/ renders the account
  request.mutation.account_changes.push_back(std::move(change));
  request.reply = std::move(cmd.reply);
  submit_hold_mutation(self, std::move(request));  // no ledger row; the balance is unchanged
}

}  // namespace wallet::actors::account_internal
