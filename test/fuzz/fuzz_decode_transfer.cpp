// Fuzzes decode_transfer (POST /transferMoney) against an oracle built from the pieces it is
// specified by (flat object, uuids, money with the "amount" alias, same-account rule, idempotency
// key), and checks that requests with the same meaning get the same canonical text.
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

bool valid_id(const FlatObject& fields, const char* name) {
  const JsonScalar* id = find(fields, name);
  return id && id->kind == JsonScalar::Kind::string && is_uuid(id->text);
}

// The amount's value as a canonical text: minor units (user form) or as written (account form,
// whose currency is not known yet).
std::optional<std::string> amount_of(const JsonScalar* field, bool accounts) {
  if (!field ||
      (field->kind != JsonScalar::Kind::string && field->kind != JsonScalar::Kind::number)) {
    return std::nullopt;
  }
  if (accounts) {
    auto written = parse_amount(field->text, configured_currencies().max_exponent());
    if (!written) return std::nullopt;
    return written->canonical();
  }
  auto money = Money::parse_amount(field->text);
  if (!money) return std::nullopt;
  return std::to_string(money->minor());
}

// The code decode_transfer must answer, or nullopt when it must accept.
std::optional<ErrorCode> expected_error(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return ErrorCode::invalid_json;
  // The account form (SPEC.md section 8) names accounts; a mix of the two forms is refused.
  const bool users = find(*fields, "from_user_id") || find(*fields, "to_user_id");
  const bool accounts = find(*fields, "from_account_id") || find(*fields, "to_account_id");
  if (users && accounts) return ErrorCode::invalid_account_id;
  const char* from = accounts ? "from_account_id" : "from_user_id";
  const char* to = accounts ? "to_account_id" : "to_user_id";
  if (!valid_id(*fields, from) || !valid_id(*fields, to)) {
    return accounts ? ErrorCode::invalid_account_id : ErrorCode::invalid_user_id;
  }
  const JsonScalar* primary = find(*fields, "amount_to_transfer");
  const JsonScalar* alias = find(*fields, "amount");
  const auto amount = amount_of(primary ? primary : (alias ? alias : primary), accounts);
  if (!amount) return ErrorCode::invalid_amount;
  if (primary && alias && amount_of(alias, accounts) != amount) return ErrorCode::invalid_amount;
  if (*normalize_uuid(find(*fields, from)->text) == *normalize_uuid(find(*fields, to)->text)) {
    return ErrorCode::same_account;
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
  const auto decoded = decode_transfer(input.body, input.header_key);
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

  const TransferRequest& request = *decoded;
  FUZZ_CHECK(!expected.has_value(), escaped(input.body) + " accepted");
  for (const std::string* id : {&request.from_user_id, &request.to_user_id}) {
    FUZZ_CHECK(is_uuid(*id) && normalize_uuid(*id) == *id, *id);
  }
  FUZZ_CHECK(request.from_user_id != request.to_user_id, escaped(input.body));
  if (request.account_form) {
    FUZZ_CHECK(request.amount == 0 && request.written.units >= 1, escaped(input.body));
  } else {
    FUZZ_CHECK(request.amount >= 1 && request.amount <= kMaxAmountMinor, escaped(input.body));
  }
  if (request.idempotency_key) {
    FUZZ_CHECK(is_valid_idempotency_key(*request.idempotency_key), escaped(input.body));
  }
  if (input.header_key) FUZZ_CHECK(request.idempotency_key == input.header_key, "header key");

  // The same transfer written differently (upper-case ids, the alias, a number, the key in the
  // header) has the same canonical text.
  const std::string form = request.account_form ? "account" : "user";
  const std::string amount = request.account_form ? "\"" + request.written.canonical() + "\""
                                                  : format_minor_units(request.amount);
  const std::string rewritten = "{\"to_" + form + "_id\": \"" + upper(request.to_user_id) +
                                "\", \"amount\": " + amount + ", \"from_" + form + "_id\": \"" +
                                upper(request.from_user_id) + "\"}";
  const auto again = decode_transfer(rewritten, request.idempotency_key);
  FUZZ_CHECK(again.ok(), rewritten);
  FUZZ_CHECK(canonical_transfer(*again) == canonical_transfer(request), rewritten);
  FUZZ_CHECK(again->idempotency_key == request.idempotency_key, rewritten);
  return 0;
}
