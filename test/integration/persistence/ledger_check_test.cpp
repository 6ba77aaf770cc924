// The negative controls of wallet-ledger-check, the guard scripts/test runs on the stack's
// databases after the integration and e2e tests (tools/wallet_stress/ledger_check_main.cpp). Each
// case builds a tiny ledger in scratch schemas of its own (a transaction_service one and a
// user_service one), runs the binary on them, and sees it pass; then plants one defect there and
// sees it fail, naming the check. Nothing is written outside the scratch schemas.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

struct CheckRun {
  int exit_code = -1;
  std::string output;
};

class LedgerCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // a deposits 100.00 and sends 30.00 to b; both are users of user_service.
    pqxx::work txn(ledger_);
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 70), ($2, 30)", a_, b_);
    row(txn, a_, "100", "0", "100", "deposit", "");
    row(txn, a_, "-30", "100", "70", "transfer_debit", t_);
    row(txn, b_, "30", "0", "30", "transfer_credit", t_);
    txn.commit();
    add_user(a_);
    add_user(b_);
  }

  void row(pqxx::work& txn, const std::string& user, const char* change, const char* old_balance,
           const char* new_balance, const char* kind, const std::string& transfer) {
    txn.exec_params(
        "INSERT INTO transactions (id, user_id, balance_change, old_balance, new_balance, kind,"
        " transfer_id) VALUES ($1, $2, $3::numeric, $4::numeric, $5::numeric, $6,"
        " nullif($7, '')::uuid)",
        domain::new_uuid_v4(), user, change, old_balance, new_balance, kind, transfer);
  }

  void add_user(const std::string& id) {
    pqxx::work txn(users_);
    txn.exec_params("INSERT INTO users (user_id, email) VALUES ($1, $2)", id,
                    "ledger-check-" + id + "@example.com");
    txn.commit();
  }

  void plant(const std::string& sql, const std::string& param) {
    pqxx::work txn(ledger_);
    txn.exec_params(sql, param);
    txn.commit();
  }

  // build/bin/wallet-ledger-check on the scratch schemas, with `extra` arguments.
  CheckRun check(const std::string& extra = "") {
    const std::string command = bin_dir() + "/wallet-ledger-check --transaction-db '" +
                                ledger_schema_.url() + "' --user-db '" + users_schema_.url() +
                                "' --settle-seconds 0 " + extra + " 2>&1";
    CheckRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return run;
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.output.append(buffer, n);
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

  // After a defect: exit 1, and the check `failing` is among the failed ones.
  void expect_caught(const std::string& failing) {
    const auto after = check();
    EXPECT_EQ(after.exit_code, 1) << after.output;
    EXPECT_NE(after.output.find("FAIL " + failing), std::string::npos) << after.output;
  }

  ScratchSchema ledger_schema_{transaction_db_url(), "transaction_service"};
  ScratchSchema users_schema_{user_db_url(), "user_service"};
  pqxx::connection ledger_{ledger_schema_.url()};
  pqxx::connection users_{users_schema_.url()};
  std::string a_ = domain::new_uuid_v4(), b_ = domain::new_uuid_v4(), t_ = domain::new_uuid_v4();
};

// The control of the controls: the consistent ledger passes every check.
TEST_F(LedgerCheckTest, PassesOnAConsistentLedger) {
  const auto run = check();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("wallet-ledger-check: OK"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("FAIL"), std::string::npos) << run.output;
}

// What a test once planted in the stack's ledger: a balance one unit above its rows.
TEST_F(LedgerCheckTest, FailsOnABalanceOffItsRows) {
  plant("UPDATE users SET balance = balance + 1 WHERE user_id = $1", b_);
  expect_caught("sql: accounts: balance = sum(balance_change) of its rows, per account");
}

TEST_F(LedgerCheckTest, FailsOnAGapInAChain) {
  plant(
      "UPDATE transactions SET old_balance = old_balance + 1, new_balance = new_balance + 1"
      " WHERE user_id = $1 AND kind = 'deposit'",
      a_);
  expect_caught("sql: accounts: rows chained per account");
}

TEST_F(LedgerCheckTest, FailsOnMoneyThatNoTransferSent) {
  pqxx::work txn(ledger_);
  txn.exec_params(
      "INSERT INTO transfers_in_transit (transfer_id, from_user_id, to_user_id, amount,"
      " to_partition) VALUES ($1, $2, $3, 5, 0)",
      domain::new_uuid_v4(), a_, b_);
  txn.commit();
  expect_caught("sql: accounts: per currency, sum of balances + in transit");
  expect_caught("sql: nothing left in transit at rest");
}

// A hold captured as a transfer that is not in the ledger.
TEST_F(LedgerCheckTest, FailsOnACapturedHoldWithoutItsTransfer) {
  pqxx::work txn(ledger_);
  txn.exec_params(
      "INSERT INTO holds (hold_id, from_user_id, to_user_id, amount, status, expires_at,"
      " transfer_id, captured_amount, closed_at) VALUES ($1, $2, $3, 5, 'captured',"
      " now() + interval '1 hour', $4, 5, now())",
      domain::new_uuid_v4(), a_, b_, domain::new_uuid_v4());
  txn.commit();
  expect_caught("sql: every captured hold has exactly one transfer");
}

TEST_F(LedgerCheckTest, FailsOnAUserWithoutItsAccount) {
  const std::string orphan = domain::new_uuid_v4();
  add_user(orphan);
  expect_caught("users: every user of user_service has its account");
  EXPECT_NE(check().output.find(orphan), std::string::npos);
}

// No foreign key guards it since migration 013: a row naming no account is the check's to find.
TEST_F(LedgerCheckTest, FailsOnARowOfAnUnknownAccount) {
  const std::string unknown = domain::new_uuid_v4();
  plant(
      "INSERT INTO transactions (id, user_id, account_id, currency, balance_change, old_balance,"
      " new_balance, kind) VALUES (gen_random_uuid(), $1, $1, 'USD', 5, 0, 5, 'deposit')",
      unknown);
  expect_caught("sql: whole ledger: every row names an existing account");
  EXPECT_NE(check().output.find(unknown), std::string::npos);
}

// Accounts are closed, never deleted (migration 013): their rows keep naming them.
TEST_F(LedgerCheckTest, AnAccountWithRowsCannotBeDeleted) {
  pqxx::work txn(ledger_);
  EXPECT_THROW(txn.exec_params("DELETE FROM accounts WHERE account_id = $1", a_), pqxx::sql_error);
}

// This test's own scratch schemas are left while it runs: --no-scratch-left names them.
TEST_F(LedgerCheckTest, FailsOnAScratchSchemaLeft) {
  const auto run = check("--no-scratch-left");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("FAIL scratch:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("." + ledger_schema_.name()), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("." + users_schema_.name()), std::string::npos) << run.output;
}

// A function added, or a trigger disabled, changes the catalog the check was given.
TEST_F(LedgerCheckTest, FailsOnAChangedFunctionOrTrigger) {
  auto printed = check("--print-catalog");
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  std::string catalog = printed.output;
  while (!catalog.empty() && catalog.back() == '\n') catalog.pop_back();
  ASSERT_NE(catalog.find("transaction_db="), std::string::npos) << catalog;
  const std::string with_catalog = "--catalog '" + catalog + "'";
  const auto same = check(with_catalog);
  EXPECT_EQ(same.exit_code, 0) << same.output;

  pqxx::nontransaction(ledger_).exec(
      "CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'");
  auto changed = check(with_catalog);
  EXPECT_EQ(changed.exit_code, 1) << changed.output;
  EXPECT_NE(changed.output.find("FAIL catalog:"), std::string::npos) << changed.output;

  pqxx::nontransaction(ledger_).exec("DROP FUNCTION planted()");
  EXPECT_EQ(check(with_catalog).exit_code, 0);
  pqxx::nontransaction(ledger_).exec("ALTER TABLE transactions DISABLE TRIGGER ledger_events");
  changed = check(with_catalog);
  EXPECT_EQ(changed.exit_code, 1) << changed.output;
  EXPECT_NE(changed.output.find("FAIL catalog:"), std::string::npos) << changed.output;
}

}  // namespace
}  // namespace wallet::test
