#include "domain/requests.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"

namespace wallet::domain {
namespace {

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

Result<const JsonScalar*> amount_text(const FlatObject& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return Error{ErrorCode::invalid_amount, name + " is required"};
  if (it->second.kind != JsonScalar::Kind::string && it->second.kind != JsonScalar::Kind::number) {
    return Error{ErrorCode::invalid_amount, name + " must be a decimal string or number"};
  }
  return &it->second;
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

}  // namespace

Result<DepositRequest> decode_deposit(std::string_view body,
                                      const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return fields.error();
  auto accounts = names_accounts(*fields, {"user_id"}, {"account_id"});
  if (!accounts) return accounts.error();
  DepositRequest request;
  request.account_form = accounts.value();
  auto id = request.account_form ? account_id_field(*fields, "account_id")
                                 : user_id_field(*fields, "user_id");
  if (!id) return id.error();
  request.user_id = std::move(id.value());
  if (request.account_form) {
    auto written = written_amount(*fields, "amount");
    if (!written) return written.error();
    request.written = written.value();
  } else {
    auto amount = amount_field(*fields, "amount");
    if (!amount) return amount.error();
    request.amount = amount->minor();
  }
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

namespace {

// The two sides of a transfer or hold, in either form; refuses one account on both sides.
struct Sides {
  std::string from, to;
  bool account_form = false;
};
Result<Sides> sides_of(const FlatObject& fields) {
  auto accounts =
      names_accounts(fields, {"from_user_id", "to_user_id"}, {"from_account_id", "to_account_id"});
  if (!accounts) return accounts.error();
  Sides sides;
  sides.account_form = accounts.value();
  auto from = sides.account_form ? account_id_field(fields, "from_account_id")
                                 : user_id_field(fields, "from_user_id");
  if (!from) return from.error();
  auto to = sides.account_form ? account_id_field(fields, "to_account_id")
                               : user_id_field(fields, "to_user_id");
  if (!to) return to.error();
  sides.from = std::move(from.value());
  sides.to = std::move(to.value());
  return sides;
}

Error same_account(const Sides& sides) {
  return sides.account_form
             ? Error{ErrorCode::same_account,
                     "from_account_id and to_account_id are the same account"}
             : Error{ErrorCode::same_account, "from_user_id and to_user_id are the same account"};
}

// An amount in either form: minor units (user form) or as written (account form).
struct EitherAmount {
  int64_t minor = 0;
  Amount written;
  bool operator==(const EitherAmount& other) const {
    return minor == other.minor && written.canonical() == other.written.canonical();
  }
};
Result<EitherAmount> either_amount(const FlatObject& fields, const std::string& name,
                                   bool account_form) {
  EitherAmount amount;
  if (account_form) {
    auto written = written_amount(fields, name);
    if (!written) return written.error();
    amount.written = written.value();
  } else {
    auto money = amount_field(fields, name);
    if (!money) return money.error();
    amount.minor = money->minor();
  }
  return amount;
}

}  // namespace

Result<TransferRequest> decode_transfer(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return fields.error();
  auto sides = sides_of(*fields);
  if (!sides) return sides.error();
  const bool has_primary = fields->count("amount_to_transfer") > 0;
  const bool has_alias = fields->count("amount") > 0;
  auto amount = either_amount(*fields, has_primary || !has_alias ? "amount_to_transfer" : "amount",
                              sides->account_form);
  if (!amount) return amount.error();
  if (has_primary && has_alias) {
    auto alias = either_amount(*fields, "amount", sides->account_form);
    if (!alias || !(alias.value() == amount.value())) {
      return Error{ErrorCode::invalid_amount, "amount_to_transfer and amount differ"};
    }
  }
  if (sides->from == sides->to) return same_account(*sides);
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  TransferRequest request{std::move(sides->from), std::move(sides->to), amount->minor,
                          std::move(key.value()), sides->account_form,  amount->written};
  return request;
}

Result<WithdrawRequest> decode_withdraw(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  return decode_deposit(body, header_key);
}

Result<HoldRequest> decode_hold(std::string_view body,
                                const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return fields.error();
  auto sides = sides_of(*fields);
  if (!sides) return sides.error();
  auto amount = either_amount(*fields, "amount", sides->account_form);
  if (!amount) return amount.error();
  int64_t timeout = kDefaultHoldTimeoutSeconds;
  if (const auto* field = find(*fields, "timeout_seconds")) {
    // An integer number of seconds, written as a plain JSON integer.
    const Error bad{ErrorCode::invalid_timeout,
                    "timeout_seconds must be an integer from 1 to 604800"};
    if (field->kind != JsonScalar::Kind::number || field->text.empty() || field->text.size() > 7) {
      return bad;
    }
    timeout = 0;
    for (char c : field->text) {
      if (c < '0' || c > '9') return bad;
      timeout = timeout * 10 + (c - '0');
    }
    if (timeout < 1 || timeout > kMaxHoldTimeoutSeconds) return bad;
  }
  if (sides->from == sides->to) return same_account(*sides);
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  HoldRequest request{std::move(sides->from), std::move(sides->to), amount->minor,  timeout,
                      std::move(key.value()), sides->account_form,  amount->written};
  return request;
}

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

Result<HoldCloseRequest> decode_hold_close(std::string_view body,
                                           const std::optional<std::string>& header_key,
                                           bool allow_amount) {
  FlatObject empty;
  Result<FlatObject> fields = empty;
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) fields = parse_flat_object(body);
  if (!fields) return fields.error();
  HoldCloseRequest request;
  if (fields->count("amount")) {
    if (!allow_amount) return Error{ErrorCode::invalid_amount, "a void takes no amount"};
    auto written = written_amount(*fields, "amount");
    if (!written) return written.error();
    request.written = written.value();
    auto minor = written->to_minor(configured_currencies().default_currency().exponent);
    if (minor) request.amount = minor.value();
  }
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

namespace {
// The account form's amounts are canonical as written (their currency is not known yet); its
// texts are marked apart from the user form's, whose amounts are minor units.
std::string amount_part(bool account_form, int64_t amount, const Amount& written) {
  return account_form ? "account|" + written.canonical() : std::to_string(amount);
}
}  // namespace

std::string canonical_deposit(const DepositRequest& request) {
  return "addMoney|" + request.user_id + '|' +
         amount_part(request.account_form, request.amount, request.written);
}

std::string canonical_transfer(const TransferRequest& request) {
  return "transferMoney|" + request.from_user_id + '|' + request.to_user_id + '|' +
         amount_part(request.account_form, request.amount, request.written);
}

std::string canonical_account(const AccountRequest& request) {
  return "accounts|" + request.user_id + '|' + request.currency + '|' +
         request.overdraft_limit.canonical() + '|' + request.metadata;
}

}  // namespace wallet::domain

namespace wallet::domain {

std::string canonical_withdraw(const WithdrawRequest& request) {
  return "withdrawMoney|" + request.user_id + '|' +
         amount_part(request.account_form, request.amount, request.written);
}

std::string canonical_hold(const HoldRequest& request) {
  return "holds|" + request.from_user_id + '|' + request.to_user_id + '|' +
         amount_part(request.account_form, request.amount, request.written) + '|' +
         std::to_string(request.timeout_seconds);
}

std::string canonical_hold_close(const char* action, const std::string& hold_id,
                                 const HoldCloseRequest& request) {
  return std::string(action) + '|' + hold_id + '|' +
         (request.amount ? std::to_string(*request.amount) : std::string("all"));
}

Result<std::string> checked_metadata(const FlatObject& object) {
  auto checked = metadata_field(ObjectWithNested{{}, object});
  if (!checked) return checked.error();
  return std::move(*checked.value());
}

Result<std::optional<std::string>> request_idempotency_key(
    const FlatObject& fields, const std::optional<std::string>& header_key) {
  return idempotency_key(fields, header_key);
}

}  // namespace wallet::domain
