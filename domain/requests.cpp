#include "domain/requests.hpp"

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

Result<Money> amount_field(const FlatObject& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return Error{ErrorCode::invalid_amount, name + " is required"};
  if (it->second.kind != JsonScalar::Kind::string && it->second.kind != JsonScalar::Kind::number) {
    return Error{ErrorCode::invalid_amount, name + " must be a decimal string or number"};
  }
  return Money::parse_amount(it->second.text);
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
  auto user_id = user_id_field(*fields, "user_id");
  if (!user_id) return user_id.error();
  auto amount = amount_field(*fields, "amount");
  if (!amount) return amount.error();
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  return DepositRequest{std::move(user_id.value()), amount->minor(), std::move(key.value())};
}

Result<TransferRequest> decode_transfer(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return fields.error();
  auto from = user_id_field(*fields, "from_user_id");
  if (!from) return from.error();
  auto to = user_id_field(*fields, "to_user_id");
  if (!to) return to.error();
  const bool has_primary = fields->count("amount_to_transfer") > 0;
  const bool has_alias = fields->count("amount") > 0;
  auto amount = amount_field(*fields, has_primary || !has_alias ? "amount_to_transfer" : "amount");
  if (!amount) return amount.error();
  if (has_primary && has_alias) {
    auto alias = amount_field(*fields, "amount");
    if (!alias || alias->minor() != amount->minor()) {
      return Error{ErrorCode::invalid_amount, "amount_to_transfer and amount differ"};
    }
  }
  if (from.value() == to.value()) {
    return Error{ErrorCode::same_account, "from_user_id and to_user_id are the same account"};
  }
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  return TransferRequest{std::move(from.value()), std::move(to.value()), amount->minor(),
                         std::move(key.value())};
}

Result<WithdrawRequest> decode_withdraw(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  return decode_deposit(body, header_key);
}

Result<HoldRequest> decode_hold(std::string_view body,
                                const std::optional<std::string>& header_key) {
  auto fields = parse_flat_object(body);
  if (!fields) return fields.error();
  auto from = user_id_field(*fields, "from_user_id");
  if (!from) return from.error();
  auto to = user_id_field(*fields, "to_user_id");
  if (!to) return to.error();
  auto amount = amount_field(*fields, "amount");
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
  if (from.value() == to.value()) {
    return Error{ErrorCode::same_account, "from_user_id and to_user_id are the same account"};
  }
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  return HoldRequest{std::move(from.value()), std::move(to.value()), amount->minor(), timeout,
                     std::move(key.value())};
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
    auto amount = amount_field(*fields, "amount");
    if (!amount) return amount.error();
    request.amount = amount->minor();
  }
  auto key = idempotency_key(*fields, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

std::string canonical_deposit(const DepositRequest& request) {
  return "addMoney|" + request.user_id + '|' + std::to_string(request.amount);
}

std::string canonical_transfer(const TransferRequest& request) {
  return "transferMoney|" + request.from_user_id + '|' + request.to_user_id + '|' +
         std::to_string(request.amount);
}

}  // namespace wallet::domain

namespace wallet::domain {

std::string canonical_withdraw(const WithdrawRequest& request) {
  return "withdrawMoney|" + request.user_id + '|' + std::to_string(request.amount);
}

std::string canonical_hold(const HoldRequest& request) {
  return "holds|" + request.from_user_id + '|' + request.to_user_id + '|' +
         std::to_string(request.amount) + '|' + std::to_string(request.timeout_seconds);
}

std::string canonical_hold_close(const char* action, const std::string& hold_id,
                                 const HoldCloseRequest& request) {
  return std::string(action) + '|' + hold_id + '|' +
         (request.amount ? std::to_string(*request.amount) : std::string("all"));
}

}  // namespace wallet::domain
