// Negative controls of test::ledger_violations' section-7 checks (transfers in transit between two
// owners). Each case builds a tiny ledger in temporary tables of its own connection that shadow
// users, transactions, holds and transfers_in_transit (pg_temp comes first in the search path), so
// nothing real is written, no trigger fires, and the checks run whether or not migration 007 has
// created the real transfers_in_transit yet.
#include "test/support/ledger_invariants.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"

namespace wallet::test {
namespace {

class LedgerInvariantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::work txn(conn_);
    txn.exec("CREATE TEMP TABLE users (LIKE users INCLUDING DEFAULTS)");
    txn.exec("CREATE TEMP TABLE transactions (LIKE transactions INCLUDING DEFAULTS)");
    txn.exec("CREATE TEMP TABLE holds (LIKE holds INCLUDING DEFAULTS)");
    txn.exec(
        "CREATE TEMP TABLE transfers_in_transit (transfer_id uuid PRIMARY KEY, from_user_id uuid,"
        " to_user_id uuid, amount numeric(20,2), to_partition integer,"
        " created_at timestamptz DEFAULT now())");
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 70), ($2, 30)", a_, b_);
    // A deposits 100.00, then transfers 30.00 to B (settled: debit and credit).
    row(txn, a_, "100", "0", "deposit", "");
    row(txn, a_, "-30", "100", "transfer_debit", t_);
    row(txn, b_, "30", "0", "transfer_credit", t_);
    txn.commit();
  }

  void row(pqxx::work& txn, const std::string& user, const std::string& change,
           const std::string& old_balance, const std::string& kind, const std::string& transfer) {
    txn.exec_params(
        "INSERT INTO transactions (id, seq, user_id, account_id, currency, balance_change,"
        " old_balance, new_balance, kind, transfer_id) VALUES ($1, $2, $3, $3, 'USD',"
        " $4::numeric, $5::numeric, $5::numeric + $4::numeric, $6, nullif($7, '')::uuid)",
        domain::new_uuid_v4(), ++seq_, user, change, old_balance, kind, transfer);
  }

  void exec(const std::string& sql) {
    pqxx::work txn(conn_);
    txn.exec_params(sql, t_, a_, b_);
    txn.commit();
  }

  std::vector<std::string> violations() { return ledger_violations(conn_, {a_, b_}); }

  pqxx::connection conn_{transaction_db_url()};
  std::string a_ = domain::new_uuid_v4(), b_ = domain::new_uuid_v4(), t_ = domain::new_uuid_v4();
  long seq_ = 0;
};

bool has(const std::vector<std::string>& problems, const std::string& prefix) {
  for (const auto& p : problems) {
    if (p.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST_F(LedgerInvariantsTest, SettledTransferHoldsEveryInvariant) {
  EXPECT_TRUE(violations().empty());
}

// The credit is still in transit: debit, in-transit row and balances agree, but it never lands.
TEST_F(LedgerInvariantsTest, TransferInTransitIsConsistentButNotAtRest) {
  exec(
      "DELETE FROM transactions WHERE transfer_id = $1 AND kind = 'transfer_credit'"
      " AND $2::uuid IS NOT NULL AND $3::uuid IS NOT NULL");
  exec(
      "UPDATE users SET balance = 0 WHERE user_id = $3 AND $1::uuid IS NOT NULL AND $2::uuid IS "
      "NOT NULL");
  exec(
      "INSERT INTO transfers_in_transit (transfer_id, from_user_id, to_user_id, amount, "
      "to_partition)"
      " VALUES ($1, $2, $3, 30, 0)");
  const auto problems = violations();  // waits 10 s for it to land
  ASSERT_EQ(problems.size(), 1u) << testing::PrintToString(problems);
  EXPECT_TRUE(has(problems, "still in transit at rest")) << problems[0];
}

// An in-transit row for a transfer whose credit already landed: credit and in transit at once.
TEST_F(LedgerInvariantsTest, InTransitRowBesideItsCreditIsCaught) {
  exec(
      "INSERT INTO transfers_in_transit (transfer_id, from_user_id, to_user_id, amount, "
      "to_partition)"
      " VALUES ($1, $2, $3, 30, 0)");
  const auto problems = violations();
  EXPECT_TRUE(has(problems, "transfer is not one debit and (its credit xor its in-transit row)"));
  EXPECT_TRUE(has(problems, "money not conserved (balances + in transit"));
  EXPECT_TRUE(has(problems, "still in transit at rest"));
  EXPECT_EQ(problems.size(), 3u) << testing::PrintToString(problems);
}

// The credit relabelled as a second debit (amounts and chains unchanged).
TEST_F(LedgerInvariantsTest, SecondDebitIsCaught) {
  exec(
      "UPDATE transactions SET kind = 'transfer_debit' WHERE transfer_id = $1"
      " AND kind = 'transfer_credit' AND $2::uuid IS NOT NULL AND $3::uuid IS NOT NULL");
  const auto problems = violations();
  EXPECT_TRUE(has(problems, "transfer has two debits or two credits"));
  EXPECT_TRUE(has(problems, "transfer is not one debit and (its credit xor its in-transit row)"));
  EXPECT_EQ(problems.size(), 2u) << testing::PrintToString(problems);
}

// A debit whose credit never comes and that is not in transit either: money lost.
TEST_F(LedgerInvariantsTest, LostCreditIsCaught) {
  exec(
      "DELETE FROM transactions WHERE transfer_id = $1 AND kind = 'transfer_credit'"
      " AND $2::uuid IS NOT NULL AND $3::uuid IS NOT NULL");
  exec(
      "UPDATE users SET balance = 0 WHERE user_id = $3 AND $1::uuid IS NOT NULL AND $2::uuid IS "
      "NOT NULL");
  const auto problems = violations();
  EXPECT_TRUE(has(problems, "transfer is not one debit and (its credit xor its in-transit row)"));
  EXPECT_TRUE(has(problems, "money not conserved (balances + in transit"));
  EXPECT_EQ(problems.size(), 2u) << testing::PrintToString(problems);
}

}  // namespace
}  // namespace wallet::test
