// Private to http/'s ledger queries (query_api.cpp, query_params.cpp): the decoding of their query
// parameters (instants, ranges, limits, cursors, filters), which the routes use. Nothing else
// includes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "actors/ledger.hpp"
#include "domain/result.hpp"
#include "http/router.hpp"

namespace wallet::http::query_params {

const std::string kInstantRule =
    " must be an RFC 3339 instant of years 1 to 9999 (e.g. 2030-01-31T12:00:00Z)";

// RFC 3339 text as microseconds since the epoch (Postgres' resolution). Finer digits round down,
// or up with `round_up`, so that a bound compares with stored instants exactly as the instant
// written does. A blank before the offset is read as '+': an unencoded '+' in a query string
// arrives as a blank. nullopt: not RFC 3339, or outside years 1 to 9999.
std::optional<int64_t> parse_instant(std::string text, bool round_up);
// `from` (inclusive) and `to` (exclusive) of a query; both round up.
domain::Result<actors::TimeRange> decode_range(const HttpRequest& request);
domain::Result<int> decode_limit(const HttpRequest& request);
// The opaque cursor of GET /transactions (query_params.cpp says its form).
std::string encode_cursor(const actors::TransactionCursor& cursor);
// GET /transactions' filters, range, limit and cursor, each checked (a 400 names it).
domain::Result<actors::TransactionQuery> decode_transaction_query(const HttpRequest& request);

}  // namespace wallet::http::query_params
