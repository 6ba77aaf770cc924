// wallet-ledger-check: the ledger invariants over every account of a transaction_service database
// (sql_verifier's checks, verify_whole_ledger), and optionally: every user of a user_service
// database has its default account there; no scratch schema or database of the tests is left; the
// databases' catalog (tables, columns, indexes, constraints, views, functions, triggers of the
// schema in use) is what it was. scripts/test runs it on the stack's databases before and after
// the integration and e2e tests (docs/testing.md). Reads only. Exit status: 0 every check held,
// 1 a violation, 2 the checks could not run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/sql_verifier.hpp"

namespace wallet::stress {
namespace {

// The names test/support/scratch_schema.cpp and scratch_database.cpp give what they create.
constexpr const char* kScratchSchemaPattern = "it\\_%";
constexpr const char* kScratchDatabasePattern = "wallet\\_it\\_%";

// One line per object of the schema in use (search_path's first), hashed.
constexpr const char* kCatalogSql = R"SQL(
WITH s AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
SELECT coalesce(md5(string_agg(d, E'\n' ORDER BY d)), 'empty') FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce((
           SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod)
                             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', '
                             ORDER BY a.attnum)
             FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
           '') || coalesce(' ' || pg_get_viewdef(c.oid), '')
    FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM s)
     AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = (SELECT oid FROM s)
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' ||
         pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = (SELECT oid FROM s)
  UNION ALL
  SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p
   WHERE p.pronamespace = (SELECT oid FROM s) AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = (SELECT oid FROM s) AND NOT t.tgisinternal) x(d)
)SQL";

std::string catalog_of(const std::string& url) {
  pqxx::connection conn(url);
  return pqxx::nontransaction(conn).exec1(kCatalogSql)[0].as<std::string>();
}

struct Options {
  std::string transaction_db;
  std::string user_db;
  double settle_seconds = 10;
  bool scratch_left = false;
  bool print_catalog = false;
  std::string catalog;
};

std::string catalog_line(const Options& o) {
  std::string line = "transaction_db=" + catalog_of(o.transaction_db);
  if (!o.user_db.empty()) line += " user_db=" + catalog_of(o.user_db);
  return line;
}

// Every user of the user_service database has its default account (users view) in the
// transaction_service database; accounts get up to `seconds` to arrive over Kafka.
InvariantResult users_have_accounts(const Options& o) {
  InvariantResult result(
      "users: every user of user_service has its account in transaction_service");
  pqxx::connection users(o.user_db), ledger(o.transaction_db);
  const std::string ids =
      pqxx::nontransaction(users)
          .exec1("SELECT coalesce(array_agg(user_id), '{}')::text FROM users")[0]
          .as<std::string>();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(o.settle_seconds * 1000));
  for (;;) {
    const auto missing = pqxx::nontransaction(ledger).exec_params(
        "SELECT u::text FROM unnest($1::uuid[]) u"
        " WHERE NOT EXISTS (SELECT 1 FROM users WHERE user_id = u)",
        ids);
    if (missing.empty() || std::chrono::steady_clock::now() >= deadline) {
      for (const auto& row : missing) result.fail(row[0].c_str());
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

InvariantResult no_scratch_left(const Options& o) {
  InvariantResult result("scratch: no it_* schema and no wallet_it_* database of the tests left");
  auto add = [&](const std::string& url, const std::string& what, const std::string& sql,
                 const char* pattern) {
    pqxx::connection conn(url);
    for (const auto& row : pqxx::nontransaction(conn).exec_params(sql, pattern)) {
      result.fail(what + row[0].c_str());
    }
  };
  add(o.transaction_db, "database ",
      "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", kScratchDatabasePattern);
  for (const auto* url : {&o.transaction_db, &o.user_db}) {
    if (url->empty()) continue;
    add(*url, std::string("schema ") + pqxx::connection(*url).dbname() + ".",
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1", kScratchSchemaPattern);
  }
  return result;
}

int run(const Options& o) {
  if (o.print_catalog) {
    std::printf("%s\n", catalog_line(o).c_str());
    return 0;
  }
  auto results = verify_whole_ledger(o.transaction_db, o.settle_seconds);
  if (!o.user_db.empty()) results.push_back(users_have_accounts(o));
  if (o.scratch_left) results.push_back(no_scratch_left(o));
  if (!o.catalog.empty()) {
    InvariantResult same("catalog: tables, indexes, constraints, functions and triggers unchanged");
    const std::string now = catalog_line(o);
    if (now != o.catalog) same.fail("was " + o.catalog + ", now " + now);
    results.push_back(std::move(same));
  }
  int failed = 0;
  for (const auto& r : results) {
    std::printf("%s %s%s\n", r.passed ? "PASS" : "FAIL", r.name.c_str(),
                r.passed ? "" : (" (" + std::to_string(r.violations) + ")").c_str());
    for (const auto& d : r.details) std::printf("    %s\n", d.c_str());
    if (!r.note.empty()) std::printf("    note: %s\n", r.note.c_str());
    if (!r.passed) ++failed;
  }
  std::printf("wallet-ledger-check: %s, %zu checks, %d failed\n", failed ? "FAILED" : "OK",
              results.size(), failed);
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace wallet::stress

int main(int argc, char** argv) {
  wallet::stress::Options o;
  CLI::App app{"wallet-ledger-check: the ledger invariants over a whole database (reads only)"};
  app.add_option("--transaction-db", o.transaction_db, "transaction_service database URL")
      ->envname("TRANSACTION_DB_URL")
      ->required();
  app.add_option("--user-db", o.user_db,
                 "user_service database URL: every user there must have its account")
      ->envname("USER_DB_URL");
  app.add_option("--settle-seconds", o.settle_seconds,
                 "how long transfers in transit and accounts of new users get to land")
      ->capture_default_str();
  app.add_flag("--no-scratch-left", o.scratch_left,
               "fail on an it_* schema (in either database) or a wallet_it_* database");
  app.add_flag("--print-catalog", o.print_catalog,
               "print the catalog fingerprint of the databases and exit");
  app.add_option("--catalog", o.catalog,
                 "a --print-catalog line from before: the catalog must still be that");
  CLI11_PARSE(app, argc, argv);
  try {
    return wallet::stress::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wallet-ledger-check: %s\n", e.what());
    return 2;
  }
}
