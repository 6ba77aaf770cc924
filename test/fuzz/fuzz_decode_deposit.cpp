// Fuzzes decode_deposit (POST /addMoney) against an oracle built from the pieces it is specified
// by (flat object, uuid, money, idempotency key rules, in that order), and checks that requests
// with the same meaning get the same canonical text (the idempotency fingerprint).
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

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// The code decode_deposit must answer, or nullopt when it must accept.
std::optional<ErrorCode> expected_error(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return ErrorCode::invalid_json;
  // The account form (SPEC.md section 8) names an account; both forms at once are refused.
  const bool accounts = find(*fields, "account_id") != nullptr;
  if (accounts && find(*fields, "user_id")) return ErrorCode::invalid_account_id;
  const JsonScalar* id = find(*fields, accounts ? "account_id" : "user_id");
  if (!id || id->kind != JsonScalar::Kind::string || !is_uuid(id->text)) {
    return accounts ? ErrorCode::invalid_account_id : ErrorCode::invalid_user_id;
  }
  const JsonScalar* amount = find(*fields, "amount");
  if (!amount ||
      (amount->kind != JsonScalar::Kind::string && amount->kind != JsonScalar::Kind::number) ||
      (accounts ? !parse_amount(amount->text, configured_currencies().max_exponent()).ok()
                : !Money::parse_amount(amount->text).ok())) {
    return ErrorCode::invalid_amount;
  }
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
  const auto decoded = decode_deposit(input.body, input.header_key);
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

  const DepositRequest& request = *decoded;
  FUZZ_CHECK(!expected.has_value(), escaped(input.body) + " accepted");
  FUZZ_CHECK(is_uuid(request.user_id) && normalize_uuid(request.user_id) == request.user_id,
             request.user_id);
  if (request.account_form) {
    FUZZ_CHECK(request.amount == 0 && request.written.units >= 1, escaped(input.body));
  } else {
    FUZZ_CHECK(request.amount >= 1 && request.amount <= kMaxAmountMinor, escaped(input.body));
  }
  if (request.idempotency_key) {
    FUZZ_CHECK(is_valid_idempotency_key(*request.idempotency_key), escaped(input.body));
  }
  if (input.header_key) FUZZ_CHECK(request.idempotency_key == input.header_key, "header key");

  // The same operation written differently (upper-case id, amount as a number, the key in the
  // body instead of the header) has the same canonical text.
  const std::string amount = request.account_form ? "\"" + request.written.canonical() + "\""
                                                  : format_minor_units(request.amount);
  std::string rewritten = "{\"amount\": " + amount + ", \"" +
                          (request.account_form ? "account_id" : "user_id") + "\": \"" +
                          upper(request.user_id) + "\"";
  if (request.idempotency_key) {
    rewritten += ", \"idempotency_key\": " + nlohmann::json(*request.idempotency_key).dump();
  }
  rewritten += "}";
  const auto again = decode_deposit(rewritten, std::nullopt);
  FUZZ_CHECK(again.ok(), rewritten);
  FUZZ_CHECK(canonical_deposit(*again) == canonical_deposit(request), rewritten);
  FUZZ_CHECK(again->idempotency_key == request.idempotency_key, rewritten);
  return 0;
}
