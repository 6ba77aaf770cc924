// What a ledger operation ended in, typed, and the one codec of its stored form.
//
// Account actors and coordinators decide outcomes as these values; they never build JSON. An
// outcome is encoded exactly once per use: by the LedgerWriter, to store it with the rows as the
// key's idempotency outcome, and by http/, to answer. Both use `encode`, so a replay (the stored
// bytes, `Encoded`) is byte-identical to the first answer: the protocol simulation compares them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "domain/error.hpp"

namespace wallet::domain {

// How an answer names its accounts and writes its money (with the exponent of the account's
// currency; a default account's is the default currency). The user-id form of releases 1 and 2
// names users; the account form (SPEC.md section 8) adds account_id (from_account_id /
// to_account_id) and currency.
struct AnswerForm {
  int exponent = 2;
  std::string currency;    // set only for the account form
  std::string from_owner;  // the account form: the payer's user (or the account's)
  std::string to_owner;    // the account form: the payee's user
  bool accounts() const { return !currency.empty(); }
};

// 200: a deposit or a withdrawal (a negative movement) committed. `account_id` is the user's id
// in the user-id form.
struct Deposited {
  std::string account_id;
  std::string transaction_id;
  int64_t updated_balance = 0;
  AnswerForm form;
};

// 200: a transfer committed; `from_balance` is the payer's balance after it.
struct Transferred {
  std::string transfer_id;
  std::string from_id;
  std::string to_id;
  int64_t amount = 0;
  int64_t from_balance = 0;
  AnswerForm form;
};

// 201: a hold placed (pending until `expires_at_ms`); the payer's available balance after it.
struct HoldPlaced {
  std::string hold_id;
  std::string from_id;
  std::string to_id;
  int64_t amount = 0;
  int64_t expires_at_ms = 0;
  int64_t available_balance = 0;
  AnswerForm form;
};

// 200: a hold captured as the transfer `transfer_id`.
struct HoldCaptured {
  std::string hold_id;
  std::string transfer_id;
  int64_t amount = 0;
  int64_t from_balance = 0;
  AnswerForm form;
};

// 200: a hold voided.
struct HoldVoided {
  std::string hold_id;
};

// A refusal: the status its code is answered with, the contract's error body.
struct Refused {
  Error error;
};

// An outcome already in its encoded form: a replay of a stored outcome, an answer relayed from
// another instance, a transaction's answer (rendered by http/ from the request it parsed), or a
// bare status with no body for answers no client sees.
struct Encoded {
  int status = 500;
  std::string body;
};

using Outcome =
    std::variant<Encoded, Deposited, Transferred, HoldPlaced, HoldCaptured, HoldVoided, Refused>;

// The status an outcome is answered with.
int status_of(const Outcome& outcome);

// The stored and answered form: status and JSON body.
Encoded encode(const Outcome& outcome);

// The refusal an encoded answer carries (a remote instance's answer), or nullopt when the body is
// not the contract's error body.
std::optional<Error> decode_refusal(const Encoded& answer);

}  // namespace wallet::domain
