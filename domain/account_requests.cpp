// Decoding of the account requests: opening an account (currency, overdraft line, metadata) and
// patching one (status, overdraft line, metadata), and the checked metadata object.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/request_fields_internal.hpp"
#include "domain/requests.hpp"

namespace wallet::domain {

using request_fields::idempotency_key;
using request_fields::user_id_field;

namespace {

// The number of characters (code points) of UTF-8 text (the JSON decoder checked it is UTF-8).
size_t characters(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

constexpr size_t kMaxMetadataKeys = 16;
constexpr size_t kMaxMetadataKeyCharacters = 64;
constexpr size_t kMaxMetadataValueCharacters = 256;

// The metadata of a body: absent (nullopt), or a checked object's compact text.
Result<std::optional<std::string>> metadata_field(const ObjectWithNested& body) {
  if (!body.nested) {
    if (body.fields.count("metadata")) {
      return Error{ErrorCode::invalid_metadata, "metadata must be a JSON object"};
    }
    return std::optional<std::string>{};
  }
  if (body.nested->size() > kMaxMetadataKeys) {
    return Error{ErrorCode::invalid_metadata, "metadata has more than 16 keys"};
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : *body.nested) {
    if (key.empty() || characters(key) > kMaxMetadataKeyCharacters) {
      return Error{ErrorCode::invalid_metadata, "a metadata key is 1 to 64 characters"};
    }
    if (value.kind != JsonScalar::Kind::string) {
      return Error{ErrorCode::invalid_metadata,
                   "metadata value of \"" + key + "\" must be a string"};
    }
    if (characters(value.text) > kMaxMetadataValueCharacters) {
      return Error{ErrorCode::invalid_metadata,
                   "metadata value of \"" + key + "\" is longer than 256 characters"};
    }
    object[key] = value.text;
  }
  return std::optional<std::string>{object.dump()};
}

// An overdraft line as written: "0" or more, at most the amount bound.
Result<Amount> overdraft_field(const FlatObject& fields) {
  const auto* field = find(fields, "overdraft_limit");
  if (!field) return Amount{};
  if (field->kind != JsonScalar::Kind::string && field->kind != JsonScalar::Kind::number) {
    return Error{ErrorCode::invalid_amount, "overdraft_limit must be a decimal string or number"};
  }
  // parse_amount refuses zero, which is a valid line: zero written with any digits is zero.
  const auto& text = field->text;
  if (!text.empty() && text.find_first_not_of("0.") == std::string::npos && text.front() == '0' &&
      text.back() != '.' && std::count(text.begin(), text.end(), '.') <= 1) {
    auto point = text.find('.');
    return Amount{0, point == std::string::npos ? 0 : static_cast<int>(text.size() - point - 1)};
  }
  auto written = parse_amount(text, configured_currencies().max_exponent());
  if (!written) {
    return Error{ErrorCode::invalid_amount, "overdraft_limit: " + written.error().message};
  }
  return written.value();
}

}  // namespace

Result<AccountRequest> decode_account(std::string_view body,
                                      const std::optional<std::string>& header_key) {
  auto parsed = parse_object_with_nested(body, "metadata");
  if (!parsed) return parsed.error();
  const auto& fields = parsed->fields;
  AccountRequest request;
  auto user = user_id_field(fields, "user_id");
  if (!user) return user.error();
  request.user_id = std::move(user.value());
  const auto* currency = find(fields, "currency");
  if (!currency || currency->kind != JsonScalar::Kind::string) {
    return Error{ErrorCode::invalid_currency, "currency is required: a configured currency code"};
  }
  if (!configured_currencies().find(currency->text)) {
    return Error{ErrorCode::invalid_currency, "currency is not one of the configured currencies"};
  }
  request.currency = currency->text;
  auto line = overdraft_field(fields);
  if (!line) return line.error();
  request.overdraft_limit = line.value();
  auto metadata = metadata_field(parsed.value());
  if (!metadata) return metadata.error();
  if (metadata.value()) request.metadata = std::move(*metadata.value());
  auto key = idempotency_key(fields, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

Result<AccountPatchRequest> decode_account_patch(std::string_view body) {
  auto parsed = parse_object_with_nested(body, "metadata");
  if (!parsed) return parsed.error();
  const auto& fields = parsed->fields;
  AccountPatchRequest request;
  if (const auto* status = find(fields, "status")) {
    if (status->kind != JsonScalar::Kind::string ||
        (status->text != "open" && status->text != "frozen" && status->text != "closed")) {
      return Error{ErrorCode::invalid_status, "status must be open, frozen or closed"};
    }
    request.status = status->text;
  }
  if (fields.count("overdraft_limit")) {
    auto line = overdraft_field(fields);
    if (!line) return line.error();
    request.overdraft_limit = line.value();
  }
  auto metadata = metadata_field(parsed.value());
  if (!metadata) return metadata.error();
  request.metadata = std::move(metadata.value());
  if (!request.status && !request.overdraft_limit && !request.metadata) {
    return Error{ErrorCode::bad_request, "give at least one of status, overdraft_limit, metadata"};
  }
  return request;
}

std::string canonical_account(const AccountRequest& request) {
  return "accounts|" + request.user_id + '|' + request.currency + '|' +
         request.overdraft_limit.canonical() + '|' + request.metadata;
}

Result<std::string> checked_metadata(const FlatObject& object) {
  auto checked = metadata_field(ObjectWithNested{{}, object});
  if (!checked) return checked.error();
  return std::move(*checked.value());
}

}  // namespace wallet::domain
