// Fuzzes decode_transaction and decode_reversal (POST /transactions, SPEC.md section 8): never a
// crash or an exception on any input; an accepted transaction holds 1..32 postings, each between
// two different sides (a canonical account id or @world, never @world to @world), of a configured
// currency, with an amount > 0 within the bound of that currency; metadata within its rules; a
// reference of 1..128 characters without control characters; and the request rebuilt from what was
// decoded decodes to the same meaning (the same canonical text: the idempotency fingerprint).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/transaction_requests.hpp"
#include "test/fuzz/fuzz_check.hpp"
#include "test/fuzz/fuzz_request_input.hpp"

namespace {

using namespace wallet::domain;
using wallet::fuzz::escaped;

bool is_side(const std::string& side) {
  return side == kWorldAccount || (is_uuid(side) && normalize_uuid(side) == side);
}

std::string rebuilt(const TransactionRequest& request) {
  nlohmann::json body{{"postings", nlohmann::json::parse(postings_json(request.postings))},
                      {"metadata", nlohmann::json::parse(request.metadata)}};
  if (request.reference) body["reference"] = *request.reference;
  return body.dump();
}

void check_transaction(std::string_view body, const std::optional<std::string>& key) {
  auto decoded = decode_transaction(body, key);
  if (!decoded) return;
  const auto& r = decoded.value();
  FUZZ_CHECK(!r.postings.empty() && r.postings.size() <= kMaxPostings, escaped(body));
  for (const auto& p : r.postings) {
    FUZZ_CHECK(is_side(p.from) && is_side(p.to) && p.from != p.to, escaped(body));
    const auto* currency = configured_currencies().find(p.currency);
    FUZZ_CHECK(currency && currency->exponent == p.exponent, escaped(body));
    FUZZ_CHECK(p.amount > 0 && p.amount <= max_balance_minor(p.exponent), escaped(body));
  }
  auto metadata = nlohmann::json::parse(r.metadata, nullptr, false);
  FUZZ_CHECK(metadata.is_object() && metadata.size() <= 16, escaped(body));
  if (r.reference) {
    FUZZ_CHECK(!r.reference->empty() && r.reference->size() <= 4 * kMaxReferenceCharacters,
               escaped(body));
    for (unsigned char c : *r.reference) FUZZ_CHECK(c >= 0x20 && c != 0x7f, escaped(body));
  }
  auto again = decode_transaction(rebuilt(r), std::nullopt);
  FUZZ_CHECK(again.ok(), escaped(body) + " rebuilt as " + escaped(rebuilt(r)));
  FUZZ_CHECK(canonical_transaction(again.value()) == canonical_transaction(r), escaped(body));
}

void check_reversal(std::string_view body) {
  auto decoded = decode_reversal(body, std::nullopt);
  if (!decoded || !decoded->amount) return;
  FUZZ_CHECK(decoded->amount->units > 0, escaped(body));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = wallet::fuzz::split_request_input(
      std::string_view(reinterpret_cast<const char*>(data), size));
  check_transaction(input.body, input.header_key);
  check_reversal(input.body);
  return 0;
}
