#include "persistence/migrations.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "domain/currency.hpp"
#include "persistence/connection.hpp"

namespace wallet::persistence {
namespace {

constexpr long kMigrationLockId = 7'400'113;

std::vector<std::filesystem::path> sql_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Applied after the migrations, in one transaction: a file that fails leaves every function as
// it was (and the start-up fails), never half of them replaced.
int apply_functions(pqxx::connection& conn, const std::filesystem::path& folder) {
  if (!std::filesystem::is_directory(folder)) return 0;
  const auto files = sql_files(folder);
  pqxx::work txn(conn);
  for (const auto& file : files) txn.exec(read_file(file));
  txn.commit();
  return static_cast<int>(files.size());
}

// The configured currencies into the schema's `currencies` table, where there is one
// (transaction_service): the one default, every code with its exponent. Codes no longer
// configured stay (the ledger may hold them; the service refuses to read their amounts).
void sync_currencies(pqxx::connection& conn) {
  pqxx::work txn(conn);
  if (txn.exec("SELECT to_regclass('currencies') IS NOT NULL")[0][0].as<bool>() == false) return;
  const auto& currencies = domain::configured_currencies();
  txn.exec("UPDATE currencies SET is_default = false WHERE is_default");
  for (const auto& currency : currencies.all()) {
    txn.exec_params(
        "INSERT INTO currencies (code, exponent, is_default) VALUES ($1, $2, $3)"
        " ON CONFLICT (code) DO UPDATE SET exponent = EXCLUDED.exponent,"
        " is_default = EXCLUDED.is_default",
        currency.code, currency.exponent, currency.code == currencies.default_currency().code);
  }
  txn.commit();
}

}  // namespace

domain::Result<int> apply_migrations(const std::string& database_url, const std::string& folder) {
  try {
    auto files = sql_files(folder);
    if (files.empty()) {
      return domain::Error{domain::ErrorCode::internal, "no migrations found in " + folder};
    }
    auto conn = connect(database_url);  // no statement timeout: an index build may take long
    {
      pqxx::nontransaction txn(*conn);
      // What migrations and functions may read (current_setting): the currency of the default
      // accounts (transaction_service's 010_accounts.sql).
      txn.exec_params("SELECT set_config('wallet.default_currency', $1, false)",
                      domain::configured_currencies().default_currency().code);
      txn.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockId);
      txn.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    }
    int applied = 0;
    for (const auto& file : files) {
      const std::string version = file.filename().string();
      pqxx::work txn(*conn);
      if (!txn.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", version).empty()) {
        continue;
      }
      txn.exec(read_file(file));
      txn.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", version);
      txn.commit();
      spdlog::info("event=migration_applied version={}", version);
      ++applied;
    }
    const int functions = apply_functions(*conn, std::filesystem::path(folder) / "functions");
    sync_currencies(*conn);
    spdlog::info("event=schema_functions_applied files={} migrations_applied={}", functions,
                 applied);
    pqxx::nontransaction unlock(*conn);
    unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockId);
    return applied;
  } catch (const std::exception& e) {
    spdlog::error("event=migration_failed folder={} cause=\"{}\"", folder, e.what());
    return domain::Error{domain::ErrorCode::unavailable,
                         std::string("database migration failed: ") + e.what()};
  }
}

}  // namespace wallet::persistence
