// LedgerStore's typed batch (functions/ledger_commit_rows.sql) against the real Postgres, in a
// scratch schema: idempotency keys may hold any printable ASCII (SPEC.md), including the array
// syntax of Postgres ("  \  ,  {  }) and the word NULL, and stored bodies are JSON full of quotes
// and backslashes. Each must reach its column byte for byte and in its row: a quoting slip would
// split an element, shift the columns and store one client's outcome under another's key.
#include "persistence/ledger_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "persistence/connection.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

using persistence::ApplyStatus;
using persistence::EntryKind;
using persistence::IdempotencyOutcome;
using persistence::LedgerEntry;
using persistence::LedgerMutation;

LedgerMutation keyed_deposit(const std::string& user, int64_t from, int64_t amount,
                             IdempotencyOutcome outcome) {
  LedgerMutation m;
  m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), user, amount, from, from + amount,
                                  EntryKind::deposit, ""});
  m.outcome = std::move(outcome);
  return m;
}

TEST(LedgerStoreTest, KeysAndBodiesWithArraySyntaxRoundTripThroughTheTypedBatch) {
  ScratchSchema schema(transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  const std::string user = domain::new_uuid_v4();
  pqxx::nontransaction(db).exec_params("INSERT INTO users (user_id) VALUES ($1)", user);

  const std::vector<IdempotencyOutcome> outcomes = {
      {"addMoney", R"(k"q\b,c{d}e)", "hash-1", 200, R"({"a":"x\"y\\z","b":"{1,2}","c":null})"},
      {"addMoney", "NULL", "hash-2", 200, "NULL"},
      {"addMoney", R"(\")", "hash-3", 200, R"(")"},
  };
  std::vector<LedgerMutation> batch;
  int64_t balance = 0;
  for (const auto& outcome : outcomes) {
    batch.push_back(keyed_deposit(user, balance, 100, outcome));
    balance += 100;
  }
  std::vector<const LedgerMutation*> ops;
  for (const auto& m : batch) ops.push_back(&m);
  persistence::LedgerStore store(schema.url(), std::chrono::milliseconds(5'000));
  ASSERT_EQ(store.apply(ops), ApplyStatus::committed);

  EXPECT_EQ(persistence::load_balance(db, user), balance);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& o : outcomes) keys.emplace_back(o.endpoint, o.key);
  auto found = persistence::find_outcomes(db, keys, std::chrono::hours(24));
  ASSERT_EQ(found.size(), outcomes.size());
  for (const auto& want : outcomes) {
    bool seen = false;
    for (const auto& got : found) {
      if (got.key != want.key) continue;
      seen = true;
      EXPECT_EQ(got.request_hash, want.request_hash) << want.key;
      EXPECT_EQ(got.status, want.status) << want.key;
      EXPECT_EQ(got.body, want.body) << want.key;
    }
    EXPECT_TRUE(seen) << "no outcome stored under " << want.key;
  }
}

// The negative control of the test above: a literal built without quoting really does split an
// element and shift what follows (so the round trip above can fail), while ArrayLiteral keeps it.
TEST(LedgerStoreTest, UnquotedArrayElementsWouldSplit) {
  pqxx::connection db(transaction_db_url());
  pqxx::nontransaction txn(db);
  const std::string key = "a,b";
  auto naive = txn.exec_params1("SELECT cardinality($1::text[])", "{" + key + "}")[0].as<int>();
  EXPECT_EQ(naive, 2);
  persistence::ArrayLiteral literal;
  literal.quoted(key).quoted(R"(c"\)");
  auto row = txn.exec_params1("SELECT cardinality($1::text[]), ($1::text[])[1], ($1::text[])[2]",
                              literal.text());
  EXPECT_EQ(row[0].as<int>(), 2);
  EXPECT_EQ(row[1].as<std::string>(), key);
  EXPECT_EQ(row[2].as<std::string>(), R"(c"\)");
}

}  // namespace
}  // namespace wallet::test
