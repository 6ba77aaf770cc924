// Decoding and canonical texts of the money requests: deposits, withdrawals, transfers, holds
// and a hold's capture or void, in the user form and the account form (SPEC.md section 8).
#include "domain/request_fields_internal.hpp"
#include "domain/requests.hpp"

namespace wallet::domain {

using request_fields::account_id_field;
using request_fields::amount_field;
using request_fields::amount_part;
using request_fields::idempotency_key;
using request_fields::names_accounts;
using request_fields::user_id_field;
using request_fields::written_amount;

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

std::string canonical_deposit(const DepositRequest& request) {
  return "addMoney|" + request.user_id + '|' +
         amount_part(request.account_form, request.amount, request.written);
}

std::string canonical_transfer(const TransferRequest& request) {
  return "transferMoney|" + request.from_user_id + '|' + request.to_user_id + '|' +
         amount_part(request.account_form, request.amount, request.written);
}

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

}  // namespace wallet::domain
