// Opening libpqxx connections and turning libpqxx exceptions into domain errors at the
// persistence boundary (the real cause goes to the log; callers only see a code and a safe text).
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "domain/error.hpp"

namespace wallet::persistence {

// Opens a connection with a bounded connect timeout. Throws pqxx::broken_connection on failure.
std::unique_ptr<pqxx::connection> connect(const std::string& url);

// Classifies a failure of a database call: broken connections and unknown outcomes are
// `unavailable` (retryable by the client), everything else is logged and reported as `internal`.
domain::Error database_error(const std::exception& error, std::string_view operation);

// True when the exception means the connection is unusable and must be reopened.
bool is_connection_failure(const std::exception& error);

// Serialization failures and deadlocks: safe to retry the whole transaction.
bool is_retryable(const std::exception& error);

}  // namespace wallet::persistence
