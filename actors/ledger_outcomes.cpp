#include "actors/ledger_outcomes.hpp"

#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/money.hpp"
#include "domain/time_text.hpp"

namespace wallet::actors {

Reply error_reply(domain::ErrorCode code, std::string message) {
  domain::Error error{code, std::move(message)};
  return Reply{domain::http_status(code), domain::error_body(error)};
}

Reply timeout_reply() {
  return error_reply(domain::ErrorCode::timeout,
                     "the request's deadline passed before it could be executed; nothing changed, "
                     "retry");
}

namespace {

std::string money(int64_t minor, const AnswerForm& form) {
  return domain::format_minor(minor, form.exponent);
}

}  // namespace

std::string deposit_body(const std::string& user_id, const std::string& transaction_id,
                         int64_t updated_balance, const AnswerForm& form) {
  if (form.accounts()) {
    return nlohmann::json{{"account_id", user_id},
                          {"user_id", form.from_owner},
                          {"transaction_id", transaction_id},
                          {"updated_balance", money(updated_balance, form)},
                          {"currency", form.currency}}
        .dump();
  }
  return nlohmann::json{{"user_id", user_id},
                        {"transaction_id", transaction_id},
                        {"updated_balance", money(updated_balance, form)}}
      .dump();
}

std::string transfer_body(const std::string& transfer_id, const std::string& from_user_id,
                          const std::string& to_user_id, int64_t amount, int64_t from_balance,
                          const AnswerForm& form) {
  if (form.accounts()) {
    return nlohmann::json{{"transfer_id", transfer_id},
                          {"from_account_id", from_user_id},
                          {"to_account_id", to_user_id},
                          {"from_user_id", form.from_owner},
                          {"to_user_id", form.to_owner},
                          {"amount", money(amount, form)},
                          {"from_balance", money(from_balance, form)},
                          {"currency", form.currency}}
        .dump();
  }
  return nlohmann::json{{"transfer_id", transfer_id},
                        {"from_user_id", from_user_id},
                        {"to_user_id", to_user_id},
                        {"amount", money(amount, form)},
                        {"from_balance", money(from_balance, form)}}
      .dump();
}

std::string hold_created_body(const persistence::HoldRecord& hold, int64_t available_balance,
                              const AnswerForm& form) {
  nlohmann::json body{{"hold_id", hold.hold_id},
                      {"from_user_id", form.accounts() ? form.from_owner : hold.from_user_id},
                      {"to_user_id", form.accounts() ? form.to_owner : hold.to_user_id},
                      {"amount", money(hold.amount, form)},
                      {"status", "pending"},
                      {"expires_at", domain::format_epoch_ms(hold.expires_at_ms)},
                      {"available_balance", money(available_balance, form)}};
  if (form.accounts()) {
    body["from_account_id"] = hold.from_user_id;
    body["to_account_id"] = hold.to_user_id;
    body["currency"] = form.currency;
  }
  return body.dump();
}

std::string capture_body(const std::string& hold_id, const std::string& transfer_id, int64_t amount,
                         int64_t from_balance, const AnswerForm& form) {
  return nlohmann::json{{"hold_id", hold_id},
                        {"transfer_id", transfer_id},
                        {"amount", money(amount, form)},
                        {"status", "captured"},
                        {"from_balance", money(from_balance, form)}}
      .dump();
}

std::string void_body(const std::string& hold_id) {
  return nlohmann::json{{"hold_id", hold_id}, {"status", "voided"}}.dump();
}

std::optional<persistence::IdempotencyOutcome> outcome_for(const std::optional<IdempotencyTag>& tag,
                                                           const Reply& reply) {
  if (!tag) return std::nullopt;
  return persistence::IdempotencyOutcome{tag->endpoint, tag->key, tag->request_hash, reply.status,
                                         reply.body};
}

void reject(caf::event_based_actor* self, const caf::actor& writer,
            const std::optional<IdempotencyTag>& tag, const domain::Error& error,
            const ReplyFn& reply, Deadline deadline) {
  Reply rejection{domain::http_status(error.code), domain::error_body(error)};
  // Only decisions about money are outcomes; not-found, overload and outages change nothing and
  // may succeed on a retry.
  // A hold that is no longer pending never becomes pending again, so that refusal is decided too.
  const bool decided = error.code == domain::ErrorCode::insufficient_funds ||
                       error.code == domain::ErrorCode::balance_limit_exceeded ||
                       error.code == domain::ErrorCode::hold_not_pending ||
                       error.code == domain::ErrorCode::account_frozen ||
                       error.code == domain::ErrorCode::account_closed;
  if (!tag || !decided) {
    reply(std::move(rejection));
    return;
  }
  if (self->clock().now() > deadline) {
    reply(timeout_reply());
    return;
  }
  WriteRequest request;
  request.mutation.outcome = outcome_for(tag, rejection);
  request.on_commit = std::move(rejection);
  request.reply = reply;
  self->send(writer, submit_atom::value, std::move(request));
}

}  // namespace wallet::actors
