// scripts/up run from a shell that exports libpq's variables, as psql users often do: what runs as
// the postgres user (psql over the socket with peer authentication) must not take them, or `up`
// fails ("Peer authentication failed for user wallet" with PGUSER=wallet).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test/support/environment.hpp"

namespace wallet::test {
namespace {

// Runs `env <assignments> scripts/up postgres` (the part is running: up checks it and runs its
// bootstrap SQL as the postgres user); true when it exits 0.
bool up_postgres_with(const std::string& assignments) {
  const std::string command = "env " + assignments + " " + scripts_dir() + "/up postgres >&2";
  return std::system(command.c_str()) == 0;
}

TEST(ScriptsEnvironmentTest, UpWorksWithACallersLibpqVariablesExported) {
  EXPECT_TRUE(up_postgres_with("PGUSER=wallet PGPASSWORD=not-the-password PGDATABASE=nowhere"));
}

// Runs scripts/lib/postgres.sh's pg_bootstrap (what `up` runs: psql as the postgres user over the
// socket) under PGUSER=wallet, with drop_libpq_env made a no-op when `keep_variables`; true when
// it succeeds.
bool bootstrap_under_pguser(bool keep_variables) {
  const std::string lib = scripts_dir() + "/lib";
  const std::string script = "source " + lib + "/stack.sh && source " + lib +
                             "/postgres.sh && export_stack_env && pg_init_paths && " +
                             (keep_variables ? "drop_libpq_env() { :; } && " : "") + "pg_bootstrap";
  const std::string command = "env PGUSER=wallet bash -c '" + script + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// The negative control: with the variables kept, the same bootstrap fails under PGUSER, so the
// test above would catch `up` passing them on again; with them dropped, it passes.
TEST(ScriptsEnvironmentTest, NegativeControlTheBootstrapWithTheVariablesKeptFails) {
  EXPECT_FALSE(bootstrap_under_pguser(true));
  EXPECT_TRUE(bootstrap_under_pguser(false));
}

}  // namespace
}  // namespace wallet::test
