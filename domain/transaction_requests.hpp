// Decoding of POST /transactions and POST /transactions/{id}/reverse (SPEC.md section 8) into
// validated requests: pure and exception-free. Amounts are parsed from the text the client wrote
// (a JSON number too: its text, never a double), at the exponent of the posting's currency.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/currency.hpp"
#include "domain/result.hpp"

namespace wallet::domain {

inline constexpr const char* kWorldAccount = "@world";
constexpr size_t kMaxPostings = 32;
constexpr size_t kMaxReferenceCharacters = 128;

struct PostingRequest {
  std::string from;  // a canonical lower-case uuid, or kWorldAccount
  std::string to;
  int64_t amount = 0;  // minor units of `currency`, > 0
  std::string currency;
  int exponent = 2;
};

struct TransactionRequest {
  std::vector<PostingRequest> postings;  // 1..kMaxPostings
  std::string metadata = "{}";           // a checked JSON object's compact text
  std::optional<std::string> reference;  // 1..128 printable characters
  std::optional<std::string> idempotency_key;
};
Result<TransactionRequest> decode_transaction(std::string_view body,
                                              const std::optional<std::string>& header_key);

// POST /transactions/{id}/reverse: {} (an empty body too) or {"amount"} (a part of a transaction
// of one posting, as written: its currency is the posting's).
struct ReversalRequest {
  std::optional<Amount> amount;
  std::optional<std::string> idempotency_key;
};
Result<ReversalRequest> decode_reversal(std::string_view body,
                                        const std::optional<std::string>& header_key);

// The canonical text of a request's meaning (equal for requests that mean the same operation).
std::string canonical_transaction(const TransactionRequest& request);
std::string canonical_reversal(const std::string& transaction_id, const ReversalRequest& request);

// The postings as answers show them and ledger_transactions stores them: a JSON array of
// {"from", "to", "amount", "currency"}, amounts at their currency's exponent.
std::string postings_json(const std::vector<PostingRequest>& postings);

}  // namespace wallet::domain
