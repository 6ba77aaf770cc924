// Decoding of transaction-service's request bodies into validated commands: the whole of the
// input rules of SPEC.md for addMoney and transferMoney, pure and exception-free (fuzzed).
//
// The money requests come in two forms (SPEC.md section 8): the user form of releases 1 and 2
// (user_id, from_user_id/to_user_id: the users' default accounts, amounts at the default
// currency's exponent) and the account form (account_id, from_account_id/to_account_id). An
// account-form amount is held as written (`written`) until the HTTP layer knows the accounts'
// currency; `amount` is set then. In the account form the *_user_id fields hold account ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/currency.hpp"
#include "domain/json_fields.hpp"
#include "domain/result.hpp"

namespace wallet::domain {

struct DepositRequest {
  std::string user_id;  // canonical lower-case uuid
  int64_t amount = 0;   // minor units, > 0
  std::optional<std::string> idempotency_key;
  bool account_form = false;
  Amount written = {};  // the account form: the amount as written
};

struct TransferRequest {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  std::optional<std::string> idempotency_key;
  bool account_form = false;
  Amount written = {};
};

// POST /withdrawMoney has the shape of addMoney.
using WithdrawRequest = DepositRequest;

constexpr int64_t kDefaultHoldTimeoutSeconds = 3600;
constexpr int64_t kMaxHoldTimeoutSeconds = 604800;

struct HoldRequest {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  int64_t timeout_seconds = kDefaultHoldTimeoutSeconds;  // 1..kMaxHoldTimeoutSeconds
  std::optional<std::string> idempotency_key;
  bool account_form = false;
  Amount written = {};
};

// POST /holds/{id}/capture and /void: the body is {} or, for capture, {"amount"}.
struct HoldCloseRequest {
  // Capture only; nullopt = all of the hold. Minor units of the default currency when it fits
  // them; the HTTP layer sets it from `written` at the hold's currency.
  std::optional<int64_t> amount;
  std::optional<Amount> written = std::nullopt;  // the amount as written
  std::optional<std::string> idempotency_key;
};

// `header_key` is the Idempotency-Key header when present; the body field "idempotency_key" is
// accepted too, and both together must agree.
Result<DepositRequest> decode_deposit(std::string_view body,
                                      const std::optional<std::string>& header_key);
Result<TransferRequest> decode_transfer(std::string_view body,
                                        const std::optional<std::string>& header_key);

Result<WithdrawRequest> decode_withdraw(std::string_view body,
                                        const std::optional<std::string>& header_key);
Result<HoldRequest> decode_hold(std::string_view body,
                                const std::optional<std::string>& header_key);
// An empty body counts as {}. `allow_amount` is false for void.
Result<HoldCloseRequest> decode_hold_close(std::string_view body,
                                           const std::optional<std::string>& header_key,
                                           bool allow_amount);

// POST /accounts (SPEC.md section 8). The overdraft line is held as written until the currency
// is known (the currency is checked against the configured set here).
struct AccountRequest {
  std::string user_id;
  std::string currency;
  Amount overdraft_limit;  // {0, 0} when absent
  // A JSON object's compact text within the metadata rules (SPEC.md section 8): at most 16 keys
  // of 1..64 characters, string values of at most 256 characters.
  std::string metadata = "{}";
  std::optional<std::string> idempotency_key;
};
Result<AccountRequest> decode_account(std::string_view body,
                                      const std::optional<std::string>& header_key);

// PATCH /accounts/{id}: at least one of its fields.
struct AccountPatchRequest {
  std::optional<std::string> status;  // open, frozen or closed
  std::optional<Amount> overdraft_limit;
  std::optional<std::string> metadata;
};
Result<AccountPatchRequest> decode_account_patch(std::string_view body);

// The metadata rules (SPEC.md section 8) over an object of scalars: its compact text, or 400
// invalid_metadata.
Result<std::string> checked_metadata(const FlatObject& object);
// The request's idempotency key: the Idempotency-Key header and/or a body field
// "idempotency_key" among `fields` (both together must agree); nullopt when neither is given.
Result<std::optional<std::string>> request_idempotency_key(
    const FlatObject& fields, const std::optional<std::string>& header_key);

// The canonical text of a request's meaning; equal for requests that mean the same operation.
std::string canonical_deposit(const DepositRequest& request);
std::string canonical_transfer(const TransferRequest& request);
std::string canonical_withdraw(const WithdrawRequest& request);
std::string canonical_hold(const HoldRequest& request);
std::string canonical_account(const AccountRequest& request);
std::string canonical_hold_close(const char* action, const std::string& hold_id,
                                 const HoldCloseRequest& request);

}  // namespace wallet::domain
