// The Ledger's accounts (SPEC.md section 8): opening one, reading them, and changing an account's
// rules through its actor (which decides the change in its order with the money work).
#include "actors/ledger.hpp"
#include "actors/ledger_outcomes.hpp"

namespace wallet::actors {

void Ledger::create_account(persistence::NewAccount account,
                            std::function<std::string(const AccountView&)> render,
                            std::function<void(domain::Result<persistence::AccountOpened>)> reply) {
  records_->create_account(std::move(account), options_.idempotency_ttl, std::move(render),
                           std::move(reply));
}

void Ledger::account(std::string account_id,
                     std::function<void(domain::Result<std::optional<AccountView>>)> reply) {
  records_->account_view(std::move(account_id), std::move(reply));
}

void Ledger::accounts(std::vector<std::string> account_ids,
                      std::function<void(domain::Result<std::vector<AccountView>>)> reply) {
  records_->account_views(std::move(account_ids), std::move(reply));
}

void Ledger::posting_accounts(std::vector<std::string> account_ids,
                              std::function<void(domain::Result<std::vector<AccountView>>)> reply) {
  std::vector<std::string> missing;
  auto found = facts_->find(account_ids, missing);
  if (missing.empty()) return reply(std::move(found));
  records_->account_views(std::move(missing),
                          [facts = facts_, found = std::move(found), reply = std::move(reply)](
                              domain::Result<std::vector<AccountView>> read) mutable {
                            if (!read) return reply(read.error());
                            facts->keep(read.value());
                            found.insert(found.end(), read->begin(), read->end());
                            reply(std::move(found));
                          });
}

void Ledger::user_accounts(
    std::string user_id,
    std::function<void(domain::Result<std::optional<std::vector<AccountView>>>)> reply) {
  records_->user_accounts(std::move(user_id), std::move(reply));
}

void Ledger::refuse(IdempotencyTag tag, domain::Error refusal, ReplyFn reply, Deadline deadline) {
  // Closed and reversed are final: such a refusal is the key's outcome (stored through the
  // writer, replayed to every retry); anything else is answered and the key stays free.
  const bool decided = refusal.code == domain::ErrorCode::account_closed ||
                       refusal.code == domain::ErrorCode::already_reversed;
  if (deadline == kNoDeadline) deadline = deadline_from_now();
  run_idempotent(tag, deadline, std::move(reply),
                 [this, tag, decided, refusal = std::move(refusal)](ReplyFn done) {
                   Reply answer{domain::Refused{refusal}};
                   if (!decided) return done(std::move(answer));
                   answer_decided(tag, std::move(answer), std::move(done));
                 });
}

void Ledger::answer_decided(const std::optional<IdempotencyTag>& tag, Reply refusal,
                            ReplyFn reply) {
  if (!tag) return reply(std::move(refusal));
  WriteRequest request;
  request.mutation.outcome = outcome_for(tag, refusal);
  request.on_commit = std::move(refusal);
  request.reply = std::move(reply);
  caf::anon_send(writer_, submit_atom::value, std::move(request));
}

void Ledger::update_account(AccountUpdate update) {
  if (!admit(update.reply, update.account_id)) return;
  // Its status may change: checks read it again from now on, and again once the change is decided.
  facts_->forget(update.account_id);
  update.reply = [facts = facts_, id = update.account_id,
                  reply = std::move(update.reply)](Reply answer) {
    facts->forget(id);
    reply(std::move(answer));
  };
  if (update.deadline == kNoDeadline) update.deadline = deadline_from_now();
  caf::anon_send(registry_, account_update_atom::value, std::move(update));
}

}  // namespace wallet::actors
