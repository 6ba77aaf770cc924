// Release 2's SQL against the real Postgres (migration 003, in a scratch schema of
// transaction_service): withdrawal rows, holds written and closed through LedgerStore::apply (the
// group commit's one statement), and the guards: a hold closes once, a captured hold names its
// transfer's rows, pending holds never exceed the balance, the account load reads pending holds,
// and history pages by seq.
#include <gtest/gtest.h>

#include <chrono>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

using persistence::ApplyStatus;
using persistence::EntryKind;
using persistence::HoldChange;
using persistence::HoldRecord;
using persistence::LedgerEntry;
using persistence::LedgerMutation;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class HoldsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* id : {&a_, &b_}) {
      *id = domain::new_uuid_v4();
      pqxx::nontransaction txn(conn_);
      txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 0)", *id);
    }
  }

  ApplyStatus apply(const LedgerMutation& mutation) { return store_.apply({&mutation}); }
  ApplyStatus apply(const LedgerMutation& first, const LedgerMutation& second) {
    return store_.apply({&first, &second});
  }

  LedgerMutation deposit(const std::string& user, int64_t old_balance, int64_t amount) {
    LedgerMutation m;
    m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), user, amount, old_balance,
                                    old_balance + amount, EntryKind::deposit, ""});
    return m;
  }
  LedgerMutation withdrawal(const std::string& user, int64_t old_balance, int64_t amount) {
    LedgerMutation m;
    m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), user, -amount, old_balance,
                                    old_balance - amount, EntryKind::withdrawal, ""});
    return m;
  }
  HoldRecord hold(int64_t amount, int64_t expires_in_ms = 3'600'000) {
    HoldRecord h;
    h.hold_id = domain::new_uuid_v4();
    h.from_user_id = a_;
    h.to_user_id = b_;
    h.amount = amount;
    h.expires_at_ms = now_ms() + expires_in_ms;
    return h;
  }
  LedgerMutation create(const HoldRecord& h) {
    LedgerMutation m;
    m.new_holds.push_back(h);
    return m;
  }
  LedgerMutation close(const std::string& hold_id, const char* status) {
    LedgerMutation m;
    m.hold_changes.push_back(HoldChange{hold_id, status, "", 0});
    return m;
  }
  // A capture of `amount` from a_ (at balance a_balance) to b_ (at b_balance).
  LedgerMutation capture(const std::string& hold_id, int64_t amount, int64_t a_balance,
                         int64_t b_balance, bool with_rows = true) {
    LedgerMutation m;
    const std::string transfer_id = domain::new_uuid_v4();
    if (with_rows) {
      m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), a_, -amount, a_balance,
                                      a_balance - amount, EntryKind::transfer_debit, transfer_id});
      m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), b_, amount, b_balance,
                                      b_balance + amount, EntryKind::transfer_credit, transfer_id});
    }
    m.hold_changes.push_back(HoldChange{hold_id, "captured", transfer_id, amount});
    return m;
  }
  std::string status(const std::string& hold_id) {
    auto found = persistence::load_hold(conn_, hold_id);
    return found ? found->status : "missing";
  }

  ScratchSchema schema_{transaction_db_url(), "transaction_service"};
  pqxx::connection conn_{schema_.url()};
  persistence::LedgerStore store_{schema_.url(), std::chrono::milliseconds(5000)};
  std::string a_, b_;
};

TEST_F(HoldsStoreTest, WithdrawalRowsTakeMoneyOutAndBelongToNoTransfer) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  ASSERT_EQ(apply(withdrawal(a_, 1000, 300)), ApplyStatus::committed);
  EXPECT_EQ(persistence::load_account(conn_, a_)->balance, 700);
  EXPECT_EQ(apply(withdrawal(a_, 700, 701)), ApplyStatus::rejected);  // below zero
  pqxx::nontransaction txn(conn_);
  // The table refuses a positive withdrawal and one with a transfer id, whoever writes it.
  EXPECT_THROW(txn.exec_params("INSERT INTO transactions (id, user_id, balance_change, old_balance,"
                               " new_balance, kind) VALUES ($1, $2, 5, 700, 705, 'withdrawal')",
                               domain::new_uuid_v4(), a_),
               pqxx::check_violation);
  EXPECT_THROW(txn.exec_params("INSERT INTO transactions (id, user_id, balance_change, old_balance,"
                               " new_balance, kind, transfer_id)"
                               " VALUES ($1, $2, -5, 700, 695, 'withdrawal', $1)",
                               domain::new_uuid_v4(), a_),
               pqxx::check_violation);
}

TEST_F(HoldsStoreTest, PendingHoldsNeverExceedTheBalance) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  const auto first = hold(600);
  ASSERT_EQ(apply(create(first)), ApplyStatus::committed);
  EXPECT_EQ(apply(create(hold(401))), ApplyStatus::rejected);
  // Nor may a debit take the balance below what is held.
  EXPECT_EQ(apply(withdrawal(a_, 1000, 401)), ApplyStatus::rejected);
  EXPECT_EQ(apply(withdrawal(a_, 1000, 400)), ApplyStatus::committed);
  auto account = persistence::load_account(conn_, a_);
  ASSERT_TRUE(account);
  EXPECT_EQ(account->balance, 600);
  ASSERT_EQ(account->pending_holds.size(), 1u);
  EXPECT_EQ(account->pending_holds[0].hold_id, first.hold_id);
  EXPECT_EQ(account->pending_holds[0].amount, 600);
  EXPECT_EQ(account->pending_holds[0].expires_at_ms, first.expires_at_ms);
  EXPECT_EQ(persistence::format_epoch_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST_F(HoldsStoreTest, AHoldClosesOnceWhateverRaces) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  const auto h = hold(500);
  ASSERT_EQ(apply(create(h)), ApplyStatus::committed);
  // Two closings in one batch: the batch fails as a whole.
  EXPECT_EQ(apply(close(h.hold_id, "voided"), close(h.hold_id, "expired")), ApplyStatus::rejected);
  EXPECT_EQ(status(h.hold_id), "pending");
  ASSERT_EQ(apply(capture(h.hold_id, 200, 1000, 0)), ApplyStatus::committed);
  EXPECT_EQ(status(h.hold_id), "captured");
  EXPECT_EQ(persistence::load_hold(conn_, h.hold_id)->captured_amount, 200);
  EXPECT_EQ(apply(close(h.hold_id, "voided")), ApplyStatus::rejected);
  EXPECT_EQ(apply(close(h.hold_id, "expired")), ApplyStatus::rejected);
  EXPECT_EQ(status(h.hold_id), "captured");
  {
    // A trigger refuses it even outside ledger_apply_batch.
    pqxx::nontransaction txn(conn_);
    EXPECT_THROW(
        txn.exec_params("UPDATE holds SET closed_at = now() WHERE hold_id = $1", h.hold_id),
        pqxx::sql_error);
  }
  EXPECT_TRUE(persistence::load_account(conn_, a_)->pending_holds.empty());
}

TEST_F(HoldsStoreTest, ACaptureMustCarryItsTransfer) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  const auto h = hold(500);
  ASSERT_EQ(apply(create(h)), ApplyStatus::committed);
  EXPECT_EQ(apply(capture(h.hold_id, 200, 1000, 0, false)), ApplyStatus::rejected);
  EXPECT_EQ(apply(capture(h.hold_id, 501, 1000, 0)), ApplyStatus::rejected);  // over the hold
  EXPECT_EQ(status(h.hold_id), "pending");
  EXPECT_EQ(persistence::load_account(conn_, a_)->balance, 1000);
}

TEST_F(HoldsStoreTest, TheSweepFindsOverdueHolds) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  const auto overdue = hold(100, -10);
  ASSERT_EQ(apply(create(overdue)), ApplyStatus::committed);
  ASSERT_EQ(apply(create(hold(100))), ApplyStatus::committed);
  auto sweep = persistence::sweep_overdue_holds(conn_, 10);
  ASSERT_EQ(sweep.overdue.size(), 1u);
  EXPECT_EQ(sweep.overdue[0].hold_id, overdue.hold_id);
  EXPECT_EQ(sweep.pending, 2);
  ASSERT_EQ(apply(close(overdue.hold_id, "expired")), ApplyStatus::committed);
  EXPECT_TRUE(persistence::sweep_overdue_holds(conn_, 10).overdue.empty());
}

// Beyond one machine: an instance sweeps only the holds of payers in the partitions it serves.
TEST_F(HoldsStoreTest, TheSweepOfAnInstanceKeepsToItsPartitions) {
  ASSERT_EQ(apply(deposit(a_, 0, 1000)), ApplyStatus::committed);
  const auto overdue = hold(100, -10);
  ASSERT_EQ(apply(create(overdue)), ApplyStatus::committed);
  const int payer = domain::partition_of(a_, 12);
  persistence::OwnedPartitions others("other", 12);
  for (int p = 0; p < 12; ++p) {
    if (p != payer) others.hold(p, 1);
  }
  EXPECT_TRUE(persistence::sweep_overdue_holds(conn_, 10, &others).overdue.empty());
  persistence::OwnedPartitions mine("mine", 12);
  mine.hold(payer, 1);
  auto sweep = persistence::sweep_overdue_holds(conn_, 10, &mine);
  ASSERT_EQ(sweep.overdue.size(), 1u);
  EXPECT_EQ(sweep.overdue[0].hold_id, overdue.hold_id);
  mine.leave(payer);  // moving away: no longer this instance's to expire
  EXPECT_TRUE(persistence::sweep_overdue_holds(conn_, 10, &mine).overdue.empty());
}

TEST_F(HoldsStoreTest, HistoryPagesBySeqNewestFirst) {
  int64_t balance = 0;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(apply(deposit(a_, balance, i)), ApplyStatus::committed);
    balance += i;
  }
  auto first = persistence::load_history_page(conn_, a_, 2, 0);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->rows.size(), 2u);
  EXPECT_EQ(first->rows[0].change, 5);
  EXPECT_GT(first->next_before, 0);
  auto second = persistence::load_history_page(conn_, a_, 2, first->next_before);
  ASSERT_EQ(second->rows.size(), 2u);
  EXPECT_EQ(second->rows[0].change, 3);
  auto last = persistence::load_history_page(conn_, a_, 2, second->next_before);
  ASSERT_EQ(last->rows.size(), 1u);
  EXPECT_EQ(last->rows[0].change, 1);
  EXPECT_EQ(last->next_before, 0);
  auto exact = persistence::load_history_page(conn_, a_, 5, 0);
  EXPECT_EQ(exact->rows.size(), 5u);
  EXPECT_EQ(exact->next_before, 0);  // no empty page after an exact fit
  EXPECT_FALSE(persistence::load_history_page(conn_, domain::new_uuid_v4(), 5, 0));
}

}  // namespace
}  // namespace wallet::test
