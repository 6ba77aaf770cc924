// Compatibility layer over Session for the code the lead still owns (ledger_store.cpp,
// migrations.cpp): opening a connection with the session settings and classifying an exception.
// New code runs its work through persistence::Session instead.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"

namespace wallet::persistence {

// Opens a connection with the Session's timeouts and keepalives. Throws pqxx::broken_connection.
// `statement_timeout` 0: unbounded (migrations only; see session.hpp's roles).
std::unique_ptr<pqxx::connection> connect(
    const std::string& url,
    std::chrono::milliseconds statement_timeout = std::chrono::milliseconds{0});

// classify(error).log(operation): `unavailable` when retryable, else logged and `internal`.
domain::Error database_error(const std::exception& error, std::string_view operation);

// True when the exception means the connection is unusable and must be reopened (including a
// read-only server after a failover, SQLSTATE 25006).
bool is_connection_failure(const std::exception& error);

// Serialization failures, deadlocks, statement timeouts: safe to retry the whole transaction.
bool is_retryable(const std::exception& error);

// Postgres array literal of integer ids, {1,2,3}, for `= ANY($1::bigint[])` (no quoting needed).
std::string bigint_array_literal(const std::vector<int64_t>& ids);

// Builds the text of a one-dimensional Postgres array literal, element by element, for a typed
// array parameter ($1::text[], $2::uuid[], ...): one parameter carries a column of many rows, and
// the server parses it with the element type's own input function (no JSON in between).
class ArrayLiteral {
 public:
  // An element that needs no quoting: a number or a uuid (no blank, comma, quote or brace).
  ArrayLiteral& plain(std::string_view element);
  ArrayLiteral& number(int64_t element);
  // Any text, double-quoted with `"` and `\` escaped.
  ArrayLiteral& quoted(std::string_view element);
  ArrayLiteral& null();
  size_t size() const { return size_; }
  // The literal: {} when empty.
  std::string text() const { return text_ + "}"; }

 private:
  void separate();
  std::string text_ = "{";
  size_t size_ = 0;
};

}  // namespace wallet::persistence
