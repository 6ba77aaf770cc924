// The schema runner against the real Postgres, in scratch databases: a database at the schema of
// commit 6c5d10d (every SQL function then defined inside the migrations; frozen copy in
// fixtures/schema-6c5d10d) upgrades to today's layout (migrations keep tables, indexes,
// constraints and triggers; each function's one live copy is schema/<service>/functions/), its
// data intact and its functions working, and ends up with the very functions, triggers and tables
// a fresh database gets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "domain/ids.hpp"
#include "persistence/migrations.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_database.hpp"

namespace wallet::test {
namespace {

namespace fs = std::filesystem;

const fs::path kSchema = fs::path(WALLET_SOURCE_DIR) / "schema";
const fs::path kTodays =
    fs::path(WALLET_SOURCE_DIR) / "test/integration/persistence/fixtures" / "schema-6c5d10d";

int migrate(const std::string& url, const fs::path& folder) {
  auto applied = persistence::apply_migrations(url, folder.string());
  if (!applied) throw std::runtime_error("migrations failed: " + applied.error().message);
  return *applied;
}

void exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::work txn(conn);
  txn.exec(sql);
  txn.commit();
}

// The SQLSTATE the statement fails with, "" when it commits.
std::string sqlstate_of(const std::string& url, const std::string& sql) {
  try {
    exec(url, sql);
    return "";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate();
  }
}

std::string scalar(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  const auto row = txn.exec1(sql);
  return row[0].is_null() ? "" : row[0].as<std::string>();
}

std::map<std::string, std::string> rows_by_key(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  std::map<std::string, std::string> out;
  for (const auto& row : txn.exec(sql)) out[row[0].as<std::string>()] = row[1].as<std::string>();
  return out;
}

// Every function of the database, by signature: its whole definition (as CREATE OR REPLACE).
std::map<std::string, std::string> functions_of(const std::string& url) {
  return rows_by_key(url,
                     "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p"
                     " WHERE p.pronamespace = 'public'::regnamespace");
}

// Triggers, columns, constraints and indexes: what the migrations keep.
std::map<std::string, std::string> tables_of(const std::string& url) {
  return rows_by_key(
      url,
      "SELECT 'trigger ' || tgrelid::regclass || '.' || tgname, pg_get_triggerdef(oid)"
      "  FROM pg_trigger WHERE NOT tgisinternal"
      " UNION ALL SELECT 'column ' || table_name || '.' || column_name,"
      "  concat_ws(' ', data_type, numeric_precision, numeric_scale, is_nullable, column_default,"
      "            is_identity)"
      "  FROM information_schema.columns WHERE table_schema = 'public'"
      " UNION ALL SELECT 'constraint ' || conrelid::regclass || '.' || conname,"
      "  pg_get_constraintdef(oid) FROM pg_constraint"
      "  WHERE connamespace = 'public'::regnamespace"
      " UNION ALL SELECT 'index ' || indexname, indexdef FROM pg_indexes"
      "  WHERE schemaname = 'public'");
}

// Every row of the ledger's tables, as text in a fixed order: equal before and after the upgrade.
// The ledger's data as release 2 wrote it: every table's rows in its release 2 columns (release 3,
// 010_accounts.sql, adds columns; `users` becomes a view of the default accounts).
std::map<std::string, std::string> ledger_data_of(const std::string& url) {
  std::map<std::string, std::string> out;
  const std::pair<const char*, const char*> tables[] = {
      {"users", "user_id, balance, created_at"},
      {"transactions",
       "id, seq, user_id, balance_change, old_balance, new_balance, kind, transfer_id, created_at"},
      {"holds",
       "hold_id, from_user_id, to_user_id, amount, status, expires_at, transfer_id,"
       " captured_amount, created_at, closed_at"},
      {"idempotency_keys", "*"},
      {"ledger_outbox",
       "id, event_id, user_id, transaction_id, kind, balance_change, old_balance, new_balance,"
       " transfer_id, hold_id, status, amount, to_user_id, expires_at, created_at"},
      {"transfers_in_transit",
       "transfer_id, from_user_id, to_user_id, amount, to_partition, created_at"},
      {"partition_owner", "*"},
      {"schema_migrations", "*"}};
  for (const auto& [table, columns] : tables) {
    const std::string only_old =
        std::string(table) == "schema_migrations" ? " WHERE version < '010'" : "";
    out[table] = scalar(url, std::string("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM"
                                         " (SELECT ") +
                                 columns + " FROM " + table + only_old + ") t");
  }
  return out;
}

std::string uuid() { return domain::new_uuid_v4(); }

// A deposit taking `user` from `from` to `to` through the typed batch (ledger_commit_rows), fenced
// when `instance` is not empty.
std::string deposit_sql(const std::string& user, const std::string& from, const std::string& to,
                        const std::string& key, const std::string& instance = "",
                        const std::string& epoch = "") {
  const std::string fence =
      instance.empty() ? "'', '{}', '{}'" : "'" + instance + "', '{0}', '{" + epoch + "}'";
  return "SELECT ledger_commit_rows(" + fence + ", ARRAY['" + user + "']::uuid[], '{" + from +
         "}', '{" + to + "}', ARRAY['" + uuid() + "']::uuid[], ARRAY['" + user +
         "']::uuid[], ARRAY[" + to + " - " + from + "]::numeric[], '{" + from + "}', '{" + to +
         "}', '{deposit}', ARRAY[NULL]::uuid[]," + " '{addMoney}', '{" + key +
         "}', '{hash}', '{200}', ARRAY['{\"ok\":true}'])";
}

std::string batch_sql(const std::string& json) {
  return "SELECT ledger_commit_batch('" + json + "'::jsonb)";
}

std::string account(const std::string& user, const std::string& from, const std::string& to) {
  return R"({"user_id":")" + user + R"(","old_balance":)" + from + R"(,"new_balance":)" + to + "}";
}

std::string entry(const std::string& user, const std::string& change, const std::string& from,
                  const std::string& to, const std::string& kind, const std::string& transfer) {
  return R"({"id":")" + uuid() + R"(","user_id":")" + user + R"(","balance_change":)" + change +
         R"(,"old_balance":)" + from + R"(,"new_balance":)" + to + R"(,"kind":")" + kind +
         R"(","transfer_id":")" + transfer + R"("})";
}

TEST(SchemaUpgradeTest, UpgradeFromTodaysSchemaKeepsTheDataAndTheFunctionsWork) {
  ScratchDatabase old_db(transaction_db_url());
  const std::string url = old_db.url();
  // Today's runner on the frozen files: no functions/ folder there, so migrations only, which is
  // what the runner of 6c5d10d did.
  ASSERT_EQ(migrate(url, kTodays / "transaction_service"), 9);

  // Rows written through the functions of 6c5d10d: a deposit (typed batch), a hold, its capture (a
  // transfer), a transfer to another owner left in transit, ownership of the one partition.
  const std::string a = uuid(), b = uuid(), hold = uuid(), captured = uuid(), leaving = uuid();
  exec(url, "INSERT INTO users (user_id) VALUES ('" + a + "'), ('" + b + "')");
  exec(url, deposit_sql(a, "0", "100.00", "k1"));
  exec(url, batch_sql(R"({"accounts":[],"entries":[],"outcomes":[],"holds":[{"hold_id":")" + hold +
                      R"(","from_user_id":")" + a + R"(","to_user_id":")" + b +
                      R"(","amount":30,"expires_at":"2030-01-01T00:00:00Z"}]})"));
  exec(url,
       batch_sql(R"({"accounts":[)" + account(a, "100", "70") + "," + account(b, "0", "30") +
                 R"(],"entries":[)" + entry(a, "-30", "100", "70", "transfer_debit", captured) +
                 "," + entry(b, "30", "0", "30", "transfer_credit", captured) +
                 R"(],"outcomes":[],"hold_changes":[{"hold_id":")" + hold +
                 R"(","status":"captured","transfer_id":")" + captured +
                 R"(","captured_amount":30}]})"));
  exec(url, batch_sql(R"({"accounts":[)" + account(a, "70", "60") + R"(],"entries":[)" +
                      entry(a, "-10", "70", "60", "transfer_debit", leaving) +
                      R"(],"outcomes":[],"departures":[{"transfer_id":")" + leaving +
                      R"(","from_user_id":")" + a + R"(","to_user_id":")" + b +
                      R"(","amount":10,"to_partition":0}]})"));
  ASSERT_EQ(scalar(url, "SELECT partition_init(1)"), "1");
  ASSERT_EQ(scalar(url, "SELECT partition_take(0, 'instance-1')"), "1");
  const auto data = ledger_data_of(url);
  ASSERT_EQ(scalar(url, "SELECT count(*) FROM ledger_outbox"), "6");  // 4 rows, 2 hold events

  // Release 3 (010_accounts.sql): every user's balance, history and holds on its default account;
  // (011_transactions.sql) transactions of many postings, nothing rewritten; (012) holds of
  // transactions across owners and their decisions, nothing rewritten either; (013) no foreign
  // key from ledger rows to accounts, which are never deleted; (014) one outbox entry per ledger
  // statement, in a table of its own (the 6 rows copied before it are published as they are).
  EXPECT_EQ(migrate(url, kSchema / "transaction_service"), 5);

  EXPECT_EQ(ledger_data_of(url), data);
  EXPECT_EQ(scalar(url,
                   "SELECT string_agg(account_id::text || ' ' || user_id::text || ' ' ||"
                   " currency || ' ' || overdraft_limit || ' ' || status || ' ' || metadata,"
                   " ',' ORDER BY balance) FROM accounts"),
            b + " " + b + " USD 0.00 open {}," + a + " " + a + " USD 0.00 open {}");
  EXPECT_EQ(scalar(url,
                   "SELECT count(*) FROM transactions WHERE account_id <> user_id"
                   " OR currency IS DISTINCT FROM 'USD'"),
            "0");
  EXPECT_EQ(scalar(url,
                   "SELECT string_agg(code || ':' || exponent || ':' || is_default, ','"
                   " ORDER BY code) FROM currencies"),
            "EUR:2:false,GBP:2:false,JPY:0:false,KWD:3:false,USD:2:true");

  // The functions work on the upgraded database: the transfer in transit lands, a credit that
  // never left is refused, a fenced deposit commits at the current epoch and is refused at an old
  // one, a stale balance is refused, a closed hold stays closed, and every ledger row still gets
  // its event.
  const auto arrival = [&b](const std::string& transfer) {
    return batch_sql(R"({"accounts":[)" + account(b, "30", "40") + R"(],"entries":[)" +
                     entry(b, "10", "30", "40", "transfer_credit", transfer) +
                     R"(],"outcomes":[],"arrivals":[{"transfer_id":")" + transfer +
                     R"(","to_user_id":")" + b + R"(","amount":10}]})");
  };
  EXPECT_EQ(sqlstate_of(url, arrival(uuid())), "WL006");
  EXPECT_EQ(sqlstate_of(url, arrival(leaving)), "");
  EXPECT_EQ(sqlstate_of(url, deposit_sql(a, "60", "65", "k2", "instance-1", "1")), "");
  EXPECT_EQ(sqlstate_of(url, deposit_sql(a, "65", "70", "k3", "instance-1", "0")), "WL005");
  EXPECT_EQ(sqlstate_of(url, deposit_sql(a, "0", "5", "k4")), "WL001");
  EXPECT_EQ(sqlstate_of(url,
                        "UPDATE holds SET status = 'voided', transfer_id = NULL,"
                        " captured_amount = NULL WHERE hold_id = '" +
                            hold + "'"),
            "WL002");
  EXPECT_EQ(
      scalar(url,
             "SELECT string_agg(balance::numeric(20, 2)::text, ',' ORDER BY balance) FROM users"),
      "40.00,65.00");
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM transfers_in_transit"), "0");
  // Two statements since: an entry each, naming its row; the rows copied before stay as they are.
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM ledger_outbox"), "6");
  EXPECT_EQ(
      scalar(url,
             "SELECT count(*) FROM ledger_outbox_statements s"
             " WHERE cardinality(s.row_ids) = 1 AND s.id > (SELECT max(id) FROM ledger_outbox)"),
      "2");
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM accounts"), "2");
  EXPECT_EQ(sqlstate_of(url, "DELETE FROM accounts"), "23001");  // closed, never deleted (013)

  // And the upgraded database is what a fresh one is.
  ScratchDatabase fresh(transaction_db_url());
  ASSERT_EQ(migrate(fresh.url(), kSchema / "transaction_service"), 14);
  EXPECT_EQ(functions_of(url), functions_of(fresh.url()));
  EXPECT_EQ(tables_of(url), tables_of(fresh.url()));
}

TEST(SchemaUpgradeTest, UpgradeFromTodaysSchemaKeepsTheOutboxNotifying) {
  ScratchDatabase old_db(user_db_url());
  const std::string url = old_db.url();
  ASSERT_EQ(migrate(url, kTodays / "user_service"), 3);
  exec(url, "INSERT INTO users (user_id, email) VALUES ('" + uuid() + "', 'before@example.com')");

  EXPECT_EQ(migrate(url, kSchema / "user_service"), 0);

  pqxx::connection listener(url);
  pqxx::nontransaction(listener).exec("LISTEN outbox_pending");
  exec(url, "INSERT INTO outbox (aggregate_id, topic, payload) VALUES ('" + uuid() +
                "', 'user-created', '{}')");
  EXPECT_GT(listener.await_notification(5, 0), 0);
  EXPECT_EQ(scalar(url, "SELECT email FROM users"), "before@example.com");

  ScratchDatabase fresh(user_db_url());
  ASSERT_EQ(migrate(fresh.url(), kSchema / "user_service"), 3);
  EXPECT_EQ(functions_of(url), functions_of(fresh.url()));
  EXPECT_EQ(tables_of(url), tables_of(fresh.url()));
}

std::string text_of(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Names of the functions a folder's files create.
std::set<std::string> functions_created_in(const fs::path& folder) {
  std::set<std::string> names;
  const std::regex create(R"(CREATE OR REPLACE FUNCTION (\w+)\()");
  for (const auto& file : fs::directory_iterator(folder)) {
    if (file.path().extension() != ".sql") continue;
    const std::string sql = text_of(file.path());
    for (std::sregex_iterator it(sql.begin(), sql.end(), create), end; it != end; ++it) {
      names.insert((*it)[1]);
    }
  }
  return names;
}

TEST(SchemaUpgradeTest, EveryFunctionHasItsLiveCopyInFunctionsAppliedAgainAtEveryStart) {
  for (const std::string service : {"transaction_service", "user_service"}) {
    ScratchDatabase fresh(transaction_db_url());
    ASSERT_EQ(migrate(fresh.url(), kSchema / service), service == "user_service" ? 3 : 14);
    const auto first = functions_of(fresh.url());
    EXPECT_EQ(migrate(fresh.url(), kSchema / service), 0);  // a second start: idempotent
    EXPECT_EQ(functions_of(fresh.url()), first) << service;

    std::set<std::string> in_database;
    for (const auto& [signature, definition] : first) {
      in_database.insert(signature.substr(0, signature.find('(')));
      EXPECT_EQ(definition.find("placeholder"), std::string::npos)
          << signature << " kept its migration's placeholder";
    }
    EXPECT_EQ(functions_created_in(kSchema / service / "functions"), in_database) << service;
    // A migration creates a function only as a trigger's placeholder (a one-liner), never a body.
    for (const auto& file : fs::directory_iterator(kSchema / service)) {
      if (file.path().extension() != ".sql") continue;
      const std::string sql = text_of(file.path());
      const std::regex created(R"(CREATE (OR REPLACE )?FUNCTION)");
      const std::regex placeholder(R"(CREATE FUNCTION \w+\(\) RETURNS trigger\n)"
                                   R"(LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION )"
                                   R"('placeholder: schema functions not applied'; END \$\$;)");
      const auto count = [&sql](const std::regex& re) {
        return std::distance(std::sregex_iterator(sql.begin(), sql.end(), re),
                             std::sregex_iterator());
      };
      EXPECT_EQ(count(created), count(placeholder)) << file.path();
    }
  }
}

// The negative control of the comparisons above: a database whose functions/ were not applied
// (migrations only, as from a copy of the folder without it) differs from a fresh one, so the
// equality checks can fail.
TEST(SchemaUpgradeTest, ComparisonTellsMissingFunctionsAndPlaceholdersApart) {
  const fs::path copy = fs::temp_directory_path() / ("wallet_it_schema_" + uuid());
  fs::create_directories(copy);
  for (const auto& file : fs::directory_iterator(kSchema / "transaction_service")) {
    if (file.is_regular_file()) fs::copy_file(file.path(), copy / file.path().filename());
  }
  ScratchDatabase without(transaction_db_url());
  ScratchDatabase fresh(transaction_db_url());
  migrate(without.url(), copy);
  fs::remove_all(copy);
  migrate(fresh.url(), kSchema / "transaction_service");
  const auto missing = functions_of(without.url());
  EXPECT_NE(missing, functions_of(fresh.url()));
  EXPECT_EQ(missing.count("ledger_commit_rows(text,integer[],bigint[],uuid[],numeric[],numeric[],"
                          "uuid[],uuid[],numeric[],numeric[],numeric[],text[],uuid[],text[],text[],"
                          "text[],integer[],text[],uuid[],smallint[],uuid[],jsonb[],jsonb[],"
                          "text[],timestamp with time zone[])"),
            0u);
  EXPECT_NE(missing.at("holds_close_once()").find("placeholder"), std::string::npos);
  EXPECT_EQ(tables_of(without.url()), tables_of(fresh.url()));  // the migrations are the same
}

}  // namespace
}  // namespace wallet::test
