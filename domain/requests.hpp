// Decoding of transaction-service's request bodies into validated commands: the whole of the
// input rules of SPEC.md for addMoney and transferMoney, pure and exception-free (fuzzed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::domain {

struct DepositRequest {
  std::string user_id;  // canonical lower-case uuid
  int64_t amount = 0;   // minor units, > 0
  std::optional<std::string> idempotency_key;
};

struct TransferRequest {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  std::optional<std::string> idempotency_key;
};

// Release 2: POST /withdrawMoney has the shape of addMoney.
using WithdrawRequest = DepositRequest;

constexpr int64_t kDefaultHoldTimeoutSeconds = 3600;
constexpr int64_t kMaxHoldTimeoutSeconds = 604800;

struct HoldRequest {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  int64_t timeout_seconds = kDefaultHoldTimeoutSeconds;  // 1..kMaxHoldTimeoutSeconds
  std::optional<std::string> idempotency_key;
};

// POST /holds/{id}/capture and /void: the body is {} or, for capture, {"amount"}.
struct HoldCloseRequest {
  std::optional<int64_t> amount;  // capture only; nullopt = all of the hold
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

// The canonical text of a request's meaning; equal for requests that mean the same operation.
std::string canonical_deposit(const DepositRequest& request);
std::string canonical_transfer(const TransferRequest& request);
std::string canonical_withdraw(const WithdrawRequest& request);
std::string canonical_hold(const HoldRequest& request);
std::string canonical_hold_close(const char* action, const std::string& hold_id,
                                 const HoldCloseRequest& request);

}  // namespace wallet::domain
