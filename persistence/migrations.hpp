// Migration runner: applies the numbered *.sql files of one service's schema folder in order,
// each in its own transaction, recording them in schema_migrations. An advisory lock makes
// concurrent start-ups of several instances apply each migration once.
#pragma once

#include <string>

#include "domain/result.hpp"

namespace wallet::persistence {

// Returns the number of migrations applied by this call (0 when the schema is current).
domain::Result<int> apply_migrations(const std::string& database_url, const std::string& folder);

}  // namespace wallet::persistence
