// Fuzzes decode_hold (POST /holds, release 2) against an oracle built from the pieces it is
// specified by (flat object, uuids, money, timeout 1..604800 as a plain JSON integer, distinct
// accounts, idempotency key rules, in that order), and checks that requests with the same meaning
// get the same canonical text (the idempotency fingerprint).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"
#include "domain/requests.hpp"
#include "test/fuzz/fuzz_check.hpp"
#include "test/fuzz/fuzz_request_input.hpp"

namespace {

using namespace wallet::domain;
using wallet::fuzz::escaped;

bool is_user_id(const JsonScalar* field) {
  return field && field->kind == JsonScalar::Kind::string && is_uuid(field->text);
}

// The timeout an accepted request carries, or nullopt when the field is invalid.
std::optional<int64_t> timeout_of(const JsonScalar* field) {
  if (!field) return kDefaultHoldTimeoutSeconds;
  if (field->kind != JsonScalar::Kind::number || field->text.empty() || field->text.size() > 6) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : field->text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxHoldTimeoutSeconds) return std::nullopt;
  return value;
}

std::optional<ErrorCode> expected_error(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return ErrorCode::invalid_json;
  // The account form (SPEC.md section 8) names accounts; a mix of the two forms is refused.
  const bool users = find(*fields, "from_user_id") || find(*fields, "to_user_id");
  const bool accounts = find(*fields, "from_account_id") || find(*fields, "to_account_id");
  if (users && accounts) return ErrorCode::invalid_account_id;
  const JsonScalar* from = find(*fields, accounts ? "from_account_id" : "from_user_id");
  const JsonScalar* to = find(*fields, accounts ? "to_account_id" : "to_user_id");
  if (!is_user_id(from) || !is_user_id(to)) {
    return accounts ? ErrorCode::invalid_account_id : ErrorCode::invalid_user_id;
  }
  const JsonScalar* amount = find(*fields, "amount");
  if (!amount ||
      (amount->kind != JsonScalar::Kind::string && amount->kind != JsonScalar::Kind::number) ||
      (accounts ? !parse_amount(amount->text, configured_currencies().max_exponent()).ok()
                : !Money::parse_amount(amount->text).ok())) {
    return ErrorCode::invalid_amount;
  }
  if (!timeout_of(find(*fields, "timeout_seconds"))) return ErrorCode::invalid_timeout;
  if (normalize_uuid(from->text) == normalize_uuid(to->text)) return ErrorCode::same_account;
  const JsonScalar* body_key = find(*fields, "idempotency_key");
  if (body_key && body_key->kind != JsonScalar::Kind::string) {
    return ErrorCode::invalid_idempotency_key;
  }
  if (header_key && body_key && *header_key != body_key->text) {
    return ErrorCode::invalid_idempotency_key;
  }
  const std::optional<std::string> key =
      header_key ? header_key
                 : (body_key ? std::optional<std::string>(body_key->text) : std::nullopt);
  if (key && !is_valid_idempotency_key(*key)) return ErrorCode::invalid_idempotency_key;
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = wallet::fuzz::split_request_input(wallet::fuzz::as_text(data, size));
  const auto decoded = decode_hold(input.body, input.header_key);
  const auto expected = expected_error(input.body, input.header_key);

  if (!decoded) {
    const Error& error = decoded.error();
    FUZZ_CHECK(expected.has_value(), escaped(input.body) + " rejected: " + error.message);
    FUZZ_CHECK(error.code == *expected, escaped(input.body) + ": " +
                                            std::string(code_name(error.code)) + " instead of " +
                                            std::string(code_name(*expected)));
    FUZZ_CHECK(!error.message.empty() && error.message.size() < 200, error.message);
    return 0;
  }

  const HoldRequest& request = *decoded;
  FUZZ_CHECK(!expected.has_value(), escaped(input.body) + " accepted");
  FUZZ_CHECK(request.from_user_id != request.to_user_id, escaped(input.body));
  if (request.account_form) {
    FUZZ_CHECK(request.amount == 0 && request.written.units >= 1, escaped(input.body));
  } else {
    FUZZ_CHECK(request.amount >= 1 && request.amount <= kMaxAmountMinor, escaped(input.body));
  }
  FUZZ_CHECK(request.timeout_seconds >= 1 && request.timeout_seconds <= kMaxHoldTimeoutSeconds,
             escaped(input.body));

  // The same hold written differently (fields reordered, amount as a number, the default timeout
  // spelled out, the key in the body) has the same canonical text.
  const std::string form = request.account_form ? "account" : "user";
  const std::string amount = request.account_form ? "\"" + request.written.canonical() + "\""
                                                  : format_minor_units(request.amount);
  std::string rewritten = "{\"timeout_seconds\": " + std::to_string(request.timeout_seconds) +
                          ", \"amount\": " + amount + ", \"to_" + form + "_id\": \"" +
                          request.to_user_id + "\", \"from_" + form + "_id\": \"" +
                          request.from_user_id + "\"";
  if (request.idempotency_key) {
    rewritten += ", \"idempotency_key\": " + nlohmann::json(*request.idempotency_key).dump();
  }
  rewritten += "}";
  const auto again = decode_hold(rewritten, std::nullopt);
  FUZZ_CHECK(again.ok(), rewritten);
  FUZZ_CHECK(canonical_hold(*again) == canonical_hold(request), rewritten);
  return 0;
}
