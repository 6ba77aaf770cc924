// How ledger operations answer: typed outcomes (domain/outcomes.hpp), stored with their key in
// their encoded form, and business rejections (insufficient_funds, balance_limit_exceeded) which,
// when the request carried an idempotency key, are committed as outcomes so that a retry replays
// the rejection instead of re-deciding it.
#pragma once

#include <caf/all.hpp>
#include <optional>
#include <string>

#include "actors/ledger_messages.hpp"

namespace wallet::actors {

using domain::AnswerForm;

// The idempotency outcome to store with an operation's rows, when it carries a key.
std::optional<persistence::IdempotencyOutcome> outcome_for(const std::optional<IdempotencyTag>& tag,
                                                           const Reply& reply);

// Answers a refusal. A business rejection of a keyed request goes through the writer, to be
// stored with its key (unless its deadline has passed: then it is dropped as `timeout`, like any
// work not yet handed to the writer); anything else is answered directly.
void reject(caf::event_based_actor* self, const caf::actor& writer,
            const std::optional<IdempotencyTag>& tag, const domain::Error& error,
            const ReplyFn& reply, Deadline deadline);

// The answer to work dropped because its deadline passed before it reached the writer.
Reply timeout_reply();

}  // namespace wallet::actors
