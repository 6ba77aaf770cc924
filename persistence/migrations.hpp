// Schema runner: brings one service's database to the schema of this build. First the numbered
// migrations of schema/<service>/ (NNN_*.sql: tables, indexes, constraints, triggers), in order,
// each in its own transaction and recorded by file name in schema_migrations (no checksum: a
// database never runs a recorded file again, so an edit to an applied migration reaches fresh
// databases only and must leave their schema as it was; test/integration/persistence/
// schema_upgrade_test.cpp compares them); then every file of schema/<service>/functions/, in name
// order, in one transaction: the one live definition of each SQL function, written `CREATE OR
// REPLACE`, so applying them again at every start-up is idempotent and an existing database gets a
// changed function without a new migration. All under one advisory lock, so concurrent start-ups of
// several instances apply each migration once and never replace a function at the same time.
//
// Order matters: a migration runs before the functions exist (on a fresh database), so it must not
// call one; a trigger a migration creates names a placeholder function that functions/ replaces
// before anything is written. A function whose arguments or result type change cannot be
// replaced: a migration drops it first (functions/ then creates the new one).
#pragma once

#include <string>

#include "domain/result.hpp"

namespace wallet::persistence {

// Returns the number of migrations applied by this call (0 when the schema is current); the
// functions are applied in any case. A folder without functions/ applies migrations only.
domain::Result<int> apply_migrations(const std::string& database_url, const std::string& folder);

}  // namespace wallet::persistence
