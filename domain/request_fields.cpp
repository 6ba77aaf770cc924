// The field readers the request decoders share: ids, amounts in either form, the account-or-user
// choice, the idempotency key, and the amount part of a canonical request text.
#include "domain/ids.hpp"
#include "domain/request_fields_internal.hpp"
#include "domain/requests.hpp"

namespace wallet::domain::request_fields {
namespace {

Result<const JsonScalar*> amount_text(const FlatObject& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return Error{ErrorCode::invalid_amount, name + " is required"};
  if (it->second.kind != JsonScalar::Kind::string && it->second.kind != JsonScalar::Kind::number) {
    return Error{ErrorCode::invalid_amount, name + " must be a decimal string or number"};
  }
  return &it->second;
}

}  // namespace

Result<std::string> user_id_field(const FlatObject& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return Error{ErrorCode::invalid_user_id, name + " is required"};
  if (it->second.kind != JsonScalar::Kind::string) {
    return Error{ErrorCode::invalid_user_id, name + " must be a string"};
  }
  auto id = normalize_uuid(it->second.text);
  if (!id) return Error{ErrorCode::invalid_user_id, name + " must be a UUID"};
  return *id;
}

// A user-form amount: minor units of the default currency (Money's rules at exponent 2).
Result<Money> amount_field(const FlatObject& fields, const std::string& name) {
  auto text = amount_text(fields, name);
  if (!text) return text.error();
  const int exponent = configured_currencies().default_currency().exponent;
  if (exponent == 2) return Money::parse_amount(text.value()->text);
  auto written = parse_amount(text.value()->text, exponent);
  if (!written) return written.error();
  auto minor = written->to_minor(exponent);
  if (!minor) return minor.error();
  return Money::from_minor(*minor);
}

// An account-form amount, as written (its currency is not known yet).
Result<Amount> written_amount(const FlatObject& fields, const std::string& name) {
  auto text = amount_text(fields, name);
  if (!text) return text.error();
  return parse_amount(text.value()->text, configured_currencies().max_exponent());
}

Result<std::string> account_id_field(const FlatObject& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return Error{ErrorCode::invalid_account_id, name + " is required"};
  if (it->second.kind != JsonScalar::Kind::string) {
    return Error{ErrorCode::invalid_account_id, name + " must be a string"};
  }
  auto id = normalize_uuid(it->second.text);
  if (!id) return Error{ErrorCode::invalid_account_id, name + " must be a UUID"};
  return *id;
}

// Whether a request names accounts (SPEC.md section 8) rather than users; a mix is refused.
Result<bool> names_accounts(const FlatObject& fields, std::initializer_list<const char*> users,
                            std::initializer_list<const char*> accounts) {
  bool any_user = false, any_account = false;
  for (const char* name : users) any_user = any_user || fields.count(name) > 0;
  for (const char* name : accounts) any_account = any_account || fields.count(name) > 0;
  if (any_user && any_account) {
    return Error{ErrorCode::invalid_account_id,
                 "name either users (user ids) or accounts (account ids), not both"};
  }
  return any_account;
}

Result<std::optional<std::string>> idempotency_key(const FlatObject& fields,
                                                   const std::optional<std::string>& header_key) {
  std::optional<std::string> body_key;
  if (auto it = fields.find("idempotency_key"); it != fields.end()) {
    if (it->second.kind != JsonScalar::Kind::string) {
      return Error{ErrorCode::invalid_idempotency_key, "idempotency_key must be a string"};
    }
    body_key = it->second.text;
  }
  if (header_key && body_key && *header_key != *body_key) {
    return Error{ErrorCode::invalid_idempotency_key,
                 "the Idempotency-Key header and the idempotency_key field differ"};
  }
  auto key = header_key ? header_key : body_key;
  if (key && !is_valid_idempotency_key(*key)) {
    return Error{ErrorCode::invalid_idempotency_key,
                 "an idempotency key is 1 to 255 printable ASCII characters without spaces"};
  }
  return key;
}

// The account form's amounts are canonical as written (their currency is not known yet); its
// texts are marked apart from the user form's, whose amounts are minor units.
std::string amount_part(bool account_form, int64_t amount, const Amount& written) {
  return account_form ? "account|" + written.canonical() : std::to_string(amount);
}
}  // namespace wallet::domain::request_fields

namespace wallet::domain {

Result<std::optional<std::string>> request_idempotency_key(
    const FlatObject& fields, const std::optional<std::string>& header_key) {
  return request_fields::idempotency_key(fields, header_key);
}

}  // namespace wallet::domain
