#include "actors/ledger_outcomes.hpp"

namespace wallet::actors {

Reply error_reply(domain::ErrorCode code, std::string message) {
  return Reply{domain::Refused{{code, std::move(message)}}};
}

Reply timeout_reply() {
  return error_reply(domain::ErrorCode::timeout,
                     "the request's deadline passed before it could be executed; nothing changed, "
                     "retry");
}

std::optional<persistence::IdempotencyOutcome> outcome_for(const std::optional<IdempotencyTag>& tag,
                                                           const Reply& reply) {
  if (!tag) return std::nullopt;
  auto stored = domain::encode(reply.outcome);
  return persistence::IdempotencyOutcome{tag->endpoint, tag->key, tag->request_hash, stored.status,
                                         std::move(stored.body)};
}

void reject(caf::event_based_actor* self, const caf::actor& writer,
            const std::optional<IdempotencyTag>& tag, const domain::Error& error,
            const ReplyFn& reply, Deadline deadline) {
  Reply rejection{domain::Refused{error}};
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
