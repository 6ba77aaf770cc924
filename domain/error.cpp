#include "domain/error.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace wallet::domain {
namespace {

struct CodeInfo {
  ErrorCode code;
  std::string_view name;
  int status;
};

constexpr std::array<CodeInfo, 51> kCodes{{
    {ErrorCode::invalid_json, "invalid_json", 400},
    {ErrorCode::invalid_amount, "invalid_amount", 400},
    {ErrorCode::invalid_user_id, "invalid_user_id", 400},
    {ErrorCode::invalid_email, "invalid_email", 400},
    {ErrorCode::invalid_idempotency_key, "invalid_idempotency_key", 400},
    {ErrorCode::invalid_limit, "invalid_limit", 400},
    {ErrorCode::same_account, "same_account", 400},
    {ErrorCode::unsupported_media_type, "unsupported_media_type", 415},
    {ErrorCode::unauthorized, "unauthorized", 401},
    {ErrorCode::forbidden, "forbidden", 403},
    {ErrorCode::not_found, "not_found", 404},
    {ErrorCode::user_not_found, "user_not_found", 404},
    {ErrorCode::method_not_allowed, "method_not_allowed", 405},
    {ErrorCode::request_timeout, "request_timeout", 408},
    {ErrorCode::email_taken, "email_taken", 409},
    {ErrorCode::insufficient_funds, "insufficient_funds", 409},
    {ErrorCode::payload_too_large, "payload_too_large", 413},
    {ErrorCode::idempotency_key_mismatch, "idempotency_key_mismatch", 422},
    {ErrorCode::balance_limit_exceeded, "balance_limit_exceeded", 422},
    {ErrorCode::too_many_requests, "too_many_requests", 429},
    {ErrorCode::internal, "internal", 500},
    {ErrorCode::unavailable, "unavailable", 503},
    {ErrorCode::upstream_timeout, "upstream_timeout", 504},
    {ErrorCode::bad_request, "bad_request", 400},
    {ErrorCode::timeout, "timeout", 503},
    {ErrorCode::invalid_timeout, "invalid_timeout", 400},
    {ErrorCode::invalid_cursor, "invalid_cursor", 400},
    {ErrorCode::invalid_hold_id, "invalid_hold_id", 400},
    {ErrorCode::hold_not_found, "hold_not_found", 404},
    {ErrorCode::hold_not_pending, "hold_not_pending", 409},
    {ErrorCode::partition_moved, "partition_moved", 503},
    {ErrorCode::rate_limited, "rate_limited", 429},
    {ErrorCode::invalid_currency, "invalid_currency", 400},
    {ErrorCode::currency_mismatch, "currency_mismatch", 400},
    {ErrorCode::invalid_account_id, "invalid_account_id", 400},
    {ErrorCode::invalid_metadata, "invalid_metadata", 400},
    {ErrorCode::invalid_status, "invalid_status", 400},
    {ErrorCode::account_not_found, "account_not_found", 404},
    {ErrorCode::account_frozen, "account_frozen", 409},
    {ErrorCode::account_closed, "account_closed", 409},
    {ErrorCode::account_not_empty, "account_not_empty", 409},
    {ErrorCode::limit_below_debt, "limit_below_debt", 409},
    {ErrorCode::invalid_postings, "invalid_postings", 400},
    {ErrorCode::invalid_reference, "invalid_reference", 400},
    {ErrorCode::invalid_transaction_id, "invalid_transaction_id", 400},
    {ErrorCode::transaction_not_found, "transaction_not_found", 404},
    {ErrorCode::already_reversed, "already_reversed", 409},
    {ErrorCode::accounts_across_owners, "accounts_across_owners", 422},
    {ErrorCode::invalid_filter, "invalid_filter", 400},
    {ErrorCode::invalid_time, "invalid_time", 400},
    {ErrorCode::invalid_bulk, "invalid_bulk", 400},
}};

const CodeInfo& info(ErrorCode code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry;
  }
  return kCodes[20];  // internal: unreachable while kCodes lists every enumerator
}

}  // namespace

std::string_view code_name(ErrorCode code) { return info(code).name; }

int http_status(ErrorCode code) { return info(code).status; }

std::string error_body(const Error& error) {
  nlohmann::json body{{"error", {{"code", code_name(error.code)}, {"message", error.message}}}};
  if (!error.account_id.empty()) body["error"]["account_id"] = error.account_id;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool parse_code_name(std::string_view name, ErrorCode& out) {
  for (const auto& entry : kCodes) {
    if (entry.name == name) {
      out = entry.code;
      return true;
    }
  }
  return false;
}

}  // namespace wallet::domain
