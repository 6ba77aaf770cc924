// How ledger operations answer: the success bodies of the contract, and business rejections
// (insufficient_funds, balance_limit_exceeded) which, when the request carried an idempotency key,
// are committed as outcomes so that a retry replays the rejection instead of re-deciding it.
#pragma once

#include <caf/all.hpp>
#include <optional>
#include <string>

#include "actors/ledger_messages.hpp"

namespace wallet::actors {

// How an answer names its accounts and writes its money (with the exponent of the
// account's currency; a default account's is the default currency). The user-id form of release
// 1 and 2 is unchanged; the account form adds account_id (from_account_id/to_account_id) and
// currency.
struct AnswerForm {
  int exponent = 2;
  std::string currency;    // set only for the account form
  std::string from_owner;  // the account form: the payer's user (or the account's)
  std::string to_owner;    // the account form: the payee's user
  bool accounts() const { return !currency.empty(); }
};

std::string deposit_body(const std::string& user_id, const std::string& transaction_id,
                         int64_t updated_balance, const AnswerForm& form = {});

std::string transfer_body(const std::string& transfer_id, const std::string& from_user_id,
                          const std::string& to_user_id, int64_t amount, int64_t from_balance,
                          const AnswerForm& form = {});

std::string hold_created_body(const persistence::HoldRecord& hold, int64_t available_balance,
                              const AnswerForm& form = {});
std::string capture_body(const std::string& hold_id, const std::string& transfer_id, int64_t amount,
                         int64_t from_balance, const AnswerForm& form = {});
std::string void_body(const std::string& hold_id);

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
