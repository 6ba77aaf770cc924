// The ledger-events outbox in a scratch schema: the triggers write ledger rows in commit order, and
// hold status changes once a holds table exists (ledger_events_attach_holds attaches to it whenever
// it appears: schema/transaction_service/functions/ledger_events.sql); the relay's reads see them.
// The encoding itself: test/unit/messaging.
#include "messaging/ledger_event.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "persistence/ledger_event_outbox.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::messaging {
namespace {

using persistence::attach_hold_events;
using persistence::count_ledger_events;
using persistence::delete_ledger_events;
using persistence::pending_ledger_events;

int64_t cents_of(std::string_view text) {
  return std::llround(std::stod(std::string(text)) * 100);  // test-only: small two-decimal values
}

TEST(LedgerOutboxTest, CommittedLedgerRowsAndHoldStatusChangesBecomeOutboxRowsInOrder) {
  test::ScratchSchema schema(test::transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  {
    pqxx::work txn(db);
    txn.exec(
        "INSERT INTO users (user_id, balance) VALUES"
        " ('00000000-0000-4000-8000-00000000000a', 0), ('00000000-0000-4000-8000-00000000000b', "
        "0)");
    // Two deposits and a transfer in one group-commit batch, through the service's own function.
    txn.exec(R"(SELECT ledger_apply_batch('{
      "accounts": [
        {"user_id": "00000000-0000-4000-8000-00000000000a", "old_balance": "0", "new_balance": "7.00"},
        {"user_id": "00000000-0000-4000-8000-00000000000b", "old_balance": "0", "new_balance": "3.00"}],
      "entries": [
        {"id": "10000000-0000-4000-8000-000000000001", "user_id": "00000000-0000-4000-8000-00000000000a",
         "balance_change": "10.00", "old_balance": "0", "new_balance": "10.00", "kind": "deposit"},
        {"id": "10000000-0000-4000-8000-000000000002", "user_id": "00000000-0000-4000-8000-00000000000a",
         "balance_change": "-3.00", "old_balance": "10.00", "new_balance": "7.00",
         "kind": "transfer_debit", "transfer_id": "20000000-0000-4000-8000-000000000001"},
        {"id": "10000000-0000-4000-8000-000000000003", "user_id": "00000000-0000-4000-8000-00000000000b",
         "balance_change": "3.00", "old_balance": "0", "new_balance": "3.00",
         "kind": "transfer_credit", "transfer_id": "20000000-0000-4000-8000-000000000001"}],
      "outcomes": []}'::jsonb))");
    txn.commit();
  }
  auto batch = pending_ledger_events(db, 100);
  auto& rows = batch.rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].transaction_id, "10000000-0000-4000-8000-000000000001");
  EXPECT_EQ(rows[1].transaction_id, "10000000-0000-4000-8000-000000000002");
  EXPECT_EQ(rows[2].transaction_id, "10000000-0000-4000-8000-000000000003");
  EXPECT_EQ(rows[1].balance_change, "-3.00");
  EXPECT_EQ(rows[1].old_balance, "10.00");
  EXPECT_EQ(cents_of(rows[0].new_balance), 1000);
  // One statement, one outbox entry (migration 014): its rows share it, each its own event id.
  EXPECT_EQ(rows[0].id, rows[1].id);
  EXPECT_EQ(rows[1].id, rows[2].id);
  EXPECT_EQ(rows[0].event_id, rows[0].transaction_id);
  EXPECT_NE(rows[0].event_id, rows[1].event_id);
  EXPECT_EQ(rows[2].posting_of, "");
  EXPECT_EQ(rows[2].account_id, "00000000-0000-4000-8000-00000000000b");
  EXPECT_FALSE(rows[2].currency.empty());
  EXPECT_EQ(count_ledger_events(db, 100), 3);
  // A pass takes entries whole: a limit below the entry's rows still reads all of them.
  EXPECT_EQ(pending_ledger_events(db, 2).rows.size(), 3u);
  delete_ledger_events(db, {rows[0].id});
  EXPECT_EQ(count_ledger_events(db, 100), 0);

  // A rolled-back ledger statement leaves no event.
  {
    pqxx::work txn(db);
    txn.exec(
        "INSERT INTO transactions (id, user_id, balance_change, old_balance, new_balance, kind)"
        " VALUES (gen_random_uuid(), '00000000-0000-4000-8000-00000000000b', 1, 3, 4, 'deposit')");
    txn.abort();
  }
  EXPECT_EQ(count_ledger_events(db, 100), 0);

  // Holds: no table yet (release 2's 003 may come later): nothing to attach, no failure.
  bool has_holds = false;
  {
    pqxx::nontransaction txn(db);
    has_holds = !txn.exec("SELECT to_regclass('holds')")[0][0].is_null();
  }
  if (!has_holds) {
    EXPECT_FALSE(attach_hold_events(db));
    pqxx::work txn(db);
    // The columns SPEC.md section 5 gives the holds table.
    txn.exec(
        "CREATE TABLE holds (hold_id uuid PRIMARY KEY, from_user_id uuid NOT NULL,"
        " to_user_id uuid NOT NULL, amount numeric(20,2) NOT NULL, status text NOT NULL,"
        " expires_at timestamptz NOT NULL, transfer_id uuid,"
        " created_at timestamptz NOT NULL DEFAULT now())");
    txn.commit();
  }
  EXPECT_TRUE(attach_hold_events(db));
  EXPECT_TRUE(attach_hold_events(db));  // idempotent
  {
    pqxx::work txn(db);
    txn.exec(
        "INSERT INTO holds (hold_id, from_user_id, to_user_id, amount, status, expires_at)"
        " VALUES ('30000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000a',"
        " '00000000-0000-4000-8000-00000000000b', 2.50, 'pending', now() + interval '1 hour')");
    txn.exec("UPDATE holds SET status = status");  // no status change: not an event
    txn.exec(
        "UPDATE holds SET status = 'captured', transfer_id = "
        "'20000000-0000-4000-8000-000000000009', captured_amount = 2.50, closed_at = now()");
    txn.commit();
  }
  batch = pending_ledger_events(db, 100);
  ASSERT_EQ(rows.size(), 2u);  // the two hold events, an entry each
  ASSERT_TRUE(rows[0].is_hold());
  EXPECT_EQ(rows[0].status, "pending");
  EXPECT_EQ(rows[0].user_id, "00000000-0000-4000-8000-00000000000a");  // the payer
  EXPECT_LT(rows[0].id, rows[1].id);
  EXPECT_EQ(rows[1].status, "captured");
  auto captured = nlohmann::json::parse(encode_ledger_event(rows[1]));
  EXPECT_EQ(captured["hold_id"], "30000000-0000-4000-8000-000000000001");
  EXPECT_EQ(captured["amount"], "2.50");
  EXPECT_EQ(captured["to_user_id"], "00000000-0000-4000-8000-00000000000b");
  EXPECT_EQ(captured["transfer_id"], "20000000-0000-4000-8000-000000000009");
  EXPECT_EQ(captured["expires_at"].get<std::string>().back(), 'Z');
}

}  // namespace
}  // namespace wallet::messaging
