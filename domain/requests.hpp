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

// `header_key` is the Idempotency-Key header when present; the body field "idempotency_key" is
// accepted too, and both together must agree.
Result<DepositRequest> decode_deposit(std::string_view body,
                                      const std::optional<std::string>& header_key);
Result<TransferRequest> decode_transfer(std::string_view body,
                                        const std::optional<std::string>& header_key);

// The canonical text of a request's meaning; equal for requests that mean the same operation.
std::string canonical_deposit(const DepositRequest& request);
std::string canonical_transfer(const TransferRequest& request);

}  // namespace wallet::domain
