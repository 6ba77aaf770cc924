// Error codes of the external contract (SPEC.md section 2) and the status each maps to.
// Every layer reports failures as a domain::Error; only http/ turns them into responses.
#pragma once

#include <string>
#include <string_view>

namespace wallet::domain {

enum class ErrorCode {
  invalid_json,
  invalid_amount,
  invalid_user_id,
  invalid_email,
  invalid_idempotency_key,
  invalid_limit,
  same_account,
  unsupported_media_type,
  unauthorized,
  forbidden,
  not_found,
  user_not_found,
  method_not_allowed,
  request_timeout,
  email_taken,
  insufficient_funds,
  payload_too_large,
  idempotency_key_mismatch,
  balance_limit_exceeded,
  too_many_requests,
  internal,
  unavailable,
  upstream_timeout,
  bad_request,  // the HTTP message itself is malformed (request line, headers, framing)
  timeout,      // the request's deadline passed before it was handed to the writer: nothing changed
  // Holds and history paging.
  invalid_timeout,
  invalid_cursor,
  invalid_hold_id,
  hold_not_found,
  hold_not_pending,
  // Beyond one machine (SPEC.md section 7): the account's partition moved to another instance
  // while the operation was being committed; nothing changed, retry (503).
  partition_moved,
  // Operating it (SPEC.md section 9): this client is over its rate limit for the route's class;
  // nothing changed, retry after Retry-After (429).
  rate_limited,
  // SPEC.md section 8: currencies and accounts.
  invalid_currency,
  currency_mismatch,
  invalid_account_id,
  invalid_metadata,
  invalid_status,
  account_not_found,
  account_frozen,
  account_closed,
  account_not_empty,
  limit_below_debt,
  // SPEC.md section 8: transactions of many postings and reversals.
  invalid_postings,
  invalid_reference,
  invalid_transaction_id,
  transaction_not_found,
  already_reversed,
  // A posting between @world and an account another instance serves in a transaction across
  // owners, or (without remote holds) payers on several instances: refused, nothing changed.
  accounts_across_owners,
  // SPEC.md section 8: queries. A query parameter that is unknown, or a query without the filter
  // it needs; an instant that is not RFC 3339 (or a range that ends before it starts).
  invalid_filter,
  invalid_time,
  // POST /transactions/bulk: the envelope of the bulk (not an operation's own data) is invalid.
  invalid_bulk,
};

struct Error {
  ErrorCode code;
  std::string message;
  // The account a refusal names (a transaction of many postings says which account refused);
  // rendered as "account_id" beside the code when set.
  std::string account_id = {};
};

// The snake_case name clients see in {"error": {"code": ...}}.
std::string_view code_name(ErrorCode code);

// The HTTP status a code is answered with.
int http_status(ErrorCode code);

// The one JSON error body of the contract: {"error": {"code": "...", "message": "..."}}.
std::string error_body(const Error& error);

// Parses a code name back (used when an error travels as JSON, e.g. over NATS).
bool parse_code_name(std::string_view name, ErrorCode& out);

}  // namespace wallet::domain
