// The wallet-stress tool (tools/wallet_stress) run as an operator runs it, against the stack of
// scripts/up: a short bounded run must exit 0 with every invariant passed and its figures adding
// up, and a run told to miscount one expected balance must fail, which shows the checks can fail.
// The same with accounts in several currencies (--currencies), and its control.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "test/e2e/stress/wallet_stress_tool.hpp"
#include "test/support/environment.hpp"

namespace wallet::test {
namespace {

using stress_tool::read_text;
using stress_tool::remove_folder_unless_failed;
using stress_tool::run_wallet_stress;
using stress_tool::ToolRun;

TEST(WalletStressTest, BoundedRunHoldsEveryInvariantThroughTheApiAndInPostgres) {
  auto run = run_wallet_stress({"--users=20", "--transfers=2000", "--concurrency=16",
                                "--duplicate-share=0.25", "--hot-share=0.1", "--seed=7",
                                "--duration-limit=240"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_TRUE(run.result["all_invariants_passed"].get<bool>());

  size_t sql_checks = 0;
  for (const auto& invariant : run.result["invariants"]) {
    EXPECT_TRUE(invariant["passed"].get<bool>()) << invariant.dump(2);
    sql_checks += invariant["name"].get<std::string>().rfind("sql: ", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(run.result["invariants"].size(), 21u) << "8 checks through the API, 13 in SQL";
  EXPECT_EQ(sql_checks, 13u);

  const auto& f = run.result["figures"];
  EXPECT_FALSE(f["stopped_early"].get<bool>());
  EXPECT_EQ(f["transfers"].get<uint64_t>(), 2000u);
  EXPECT_EQ(f["duplicates"].get<uint64_t>(), 500u);
  EXPECT_EQ(f["requests"].get<uint64_t>(), f["transfers"].get<uint64_t>() +
                                               f["duplicates"].get<uint64_t>() +
                                               f["retries"].get<uint64_t>());
  EXPECT_EQ(f["accepted"].get<uint64_t>() + f["refused_insufficient_funds"].get<uint64_t>(), 2000u);
  EXPECT_EQ(f["unresolved"].get<uint64_t>(), 0u);
  EXPECT_GT(f["accepted"].get<uint64_t>(), 1000u);
  uint64_t answered = 0;
  for (const auto& [status, count] : run.result["status"].items())
    answered += count.get<uint64_t>();
  EXPECT_EQ(answered, f["requests"].get<uint64_t>());
  EXPECT_EQ(run.result["users"].size(), 20u);

  const std::string html = read_text(run.folder + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos) << "the report must be self-contained";
  EXPECT_NE(run.output.find("PASS  money conserved"), std::string::npos) << run.output;
  remove_folder_unless_failed(run);
}

// Release 2: the full operation mix (holds, captures, voids, withdrawals among transfers), with
// duplicated keys; every invariant, including available = balance - pending holds and one transfer
// per captured hold, holds through the API, in Postgres and in the ledger-events stream.
TEST(WalletStressTest, FullOperationMixHoldsEveryInvariant) {
  auto run = run_wallet_stress({"--users=20", "--transfers=1500", "--concurrency=16",
                                "--duplicate-share=0.25", "--seed=11", "--duration-limit=240",
                                "--mix=transfer=70,hold=15,capture=10,void=5,withdraw=5",
                                "--kafka-brokers=" + test::kafka_brokers()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_TRUE(run.result["all_invariants_passed"].get<bool>());
  for (const auto& invariant : run.result["invariants"]) {
    EXPECT_TRUE(invariant["passed"].get<bool>()) << invariant.dump(2);
  }
  const auto& f = run.result["figures"];
  EXPECT_EQ(f["unresolved"].get<uint64_t>(), 0u);
  EXPECT_GT(f["accepted"].get<uint64_t>(), 700u);
  remove_folder_unless_failed(run);
}

// Issue 28: the same mix sent 40 operations at a time through POST /transactions/bulk (duplicates
// of a key may share a bulk; captures and voids go alone once their hold is answered): every
// invariant holds, every key has one outcome, and far fewer requests carried the operations.
TEST(WalletStressTest, BulkRunHoldsEveryInvariant) {
  auto run = run_wallet_stress({"--users=20", "--transfers=1500", "--concurrency=8",
                                "--duplicate-share=0.25", "--seed=12", "--duration-limit=240",
                                "--mix=transfer=70,hold=15,capture=10,void=5,withdraw=5",
                                "--bulk=40", "--kafka-brokers=" + test::kafka_brokers()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_TRUE(run.result["all_invariants_passed"].get<bool>());
  for (const auto& invariant : run.result["invariants"]) {
    EXPECT_TRUE(invariant["passed"].get<bool>()) << invariant.dump(2);
  }
  const auto& f = run.result["figures"];
  EXPECT_EQ(f["unresolved"].get<uint64_t>(), 0u);
  EXPECT_GT(f["accepted"].get<uint64_t>(), 700u);
  EXPECT_LT(f["requests"].get<uint64_t>(), 600u) << "captures and voids alone, the rest in bulks";
  EXPECT_EQ(run.result["config"]["bulk"], 40);
  remove_folder_unless_failed(run);
}

// Its negative control: the driver's expectation corrupted in a bulk run fails the run.
TEST(WalletStressTest, BulkRunWithAMiscountedExpectationFails) {
  auto run = run_wallet_stress({"--users=4", "--transfers=200", "--concurrency=4", "--bulk=25",
                                "--self-check-corrupt", "--settle-wait=1", "--duration-limit=120"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_FALSE(run.result["all_invariants_passed"].get<bool>());
  remove_folder_unless_failed(run);
}

// The negative control of the hold checks: one account's pending holds miscounted by one cent
// fails exactly the three checks that compare them, through the API, in SQL and in the stream.
TEST(WalletStressTest, MiscountedHoldsFailTheRun) {
  auto run = run_wallet_stress({"--users=4", "--transfers=200", "--concurrency=8",
                                "--mix=transfer=50,hold=30,capture=10,void=10",
                                "--self-check-corrupt-holds", "--duration-limit=120",
                                "--kafka-brokers=" + test::kafka_brokers(), "--event-wait=5"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  std::set<std::string> failed;
  for (const auto& invariant : run.result["invariants"]) {
    if (invariant["passed"].get<bool>()) continue;
    failed.insert(invariant["name"].get<std::string>());
    EXPECT_EQ(invariant["violations"].get<uint64_t>(), 1u) << invariant.dump(2);
  }
  EXPECT_EQ(failed,
            (std::set<std::string>{
                "available balance = balance - pending holds, per account (release 2)",
                "sql: pending holds per new account = the driver's expectation",
                "events: the holds ledger-events leave pending = the driver's expectation"}))
      << run.output;
  remove_folder_unless_failed(run);
}

// The negative control of the in-transit checks: in private temporary copies of the run's rows
// (they shadow transactions and transfers_in_transit inside the checks' transaction; nothing real
// is written) an in-transit row is put beside a credit that landed and another transfer's credit is
// relabelled as a second debit: exactly the four checks that see transfers in transit fail.
TEST(WalletStressTest, PlantedInTransitDefectsFailTheRun) {
  auto run = run_wallet_stress({"--users=4", "--transfers=200", "--concurrency=8",
                                "--self-check-corrupt-in-transit", "--duration-limit=120"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  std::map<std::string, uint64_t> failed;
  for (const auto& invariant : run.result["invariants"]) {
    if (invariant["passed"].get<bool>()) continue;
    failed[invariant["name"].get<std::string>()] = invariant["violations"].get<uint64_t>();
  }
  EXPECT_EQ(failed,
            (std::map<std::string, uint64_t>{
                {"sql: each transfer is one debit and (its credit xor its in-transit row), "
                 "netting to zero",
                 2},
                {"sql: no transfer has two debits or two credits", 1},
                {"sql: money conserved (sum of balances + in transit = deposits - withdrawals)", 1},
                {"sql: nothing left in transit at rest", 1}}))
      << run.output;
  remove_folder_unless_failed(run);
}

TEST(WalletStressTest, MiscountedExpectationFailsTheRun) {
  auto run = run_wallet_stress({"--users=4", "--transfers=200", "--concurrency=8",
                                "--self-check-corrupt", "--settle-wait=1", "--duration-limit=120"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_FALSE(run.result["all_invariants_passed"].get<bool>());
  // Exactly the two checks that compare balances with the driver's expectation fail, each for
  // the one account whose expectation was miscounted; everything the service did still holds.
  std::set<std::string> failed;
  for (const auto& invariant : run.result["invariants"]) {
    if (invariant["passed"].get<bool>()) continue;
    failed.insert(invariant["name"].get<std::string>());
    EXPECT_EQ(invariant["violations"].get<uint64_t>(), 1u) << invariant.dump(2);
  }
  EXPECT_EQ(failed, (std::set<std::string>{
                        "each balance = funding + credits - debits of its 200 answers",
                        "sql: stored balances = the driver's expectation from its 200 answers"}))
      << run.output;
  EXPECT_NE(run.output.find("FAIL  each balance"), std::string::npos) << run.output;
  remove_folder_unless_failed(run);
}

// With --currencies: every user also holds an account in EUR and one in JPY (every other
// one with an overdraft line) and one more of each set aside to be closed; account-form transfers
// between users of one currency run among the release 1 and 2 operations, lines are set and
// lowered, accounts frozen and unfrozen, and emptied accounts closed. Every check holds: the
// release 1 and 2 ones on the default accounts, and per account and per currency through GET
// /accounts/{id} and in Postgres.
TEST(WalletStressTest, AccountsInSeveralCurrenciesHoldEveryInvariant) {
  auto run = run_wallet_stress(
      {"--users=6", "--transfers=600", "--concurrency=8", "--duplicate-share=0.25", "--seed=17",
       "--fund=300.00", "--currencies=EUR,JPY", "--duration-limit=120",
       "--mix=transfer=25,hold=5,capture=3,void=2,withdraw=3,xfer_acct=45,overdraft=7,freeze=5,"
       "close=5"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  size_t account_checks = 0;
  for (const auto& invariant : run.result["invariants"]) {
    EXPECT_TRUE(invariant["passed"].get<bool>()) << invariant.dump(2);
    account_checks += invariant["name"].get<std::string>().find("accounts: ") != std::string::npos;
  }
  EXPECT_EQ(run.result["invariants"].size(), 37u) << "21 as without accounts, 6 + 10 of accounts";
  EXPECT_EQ(account_checks, 16u);
  const auto& a = run.result["accounts"];
  ASSERT_TRUE(a.is_object()) << run.result.dump(2);
  EXPECT_EQ(a["accounts"].get<uint64_t>(), 24u) << "6 users x 2 currencies x (transfers + close)";
  EXPECT_GT(a["xfer_acct"]["accepted"].get<uint64_t>(), 100u);
  EXPECT_GT(a["freeze"].get<uint64_t>(), 0u);
  EXPECT_GT(a["close"].get<uint64_t>(), 0u);
  EXPECT_EQ(a["account_operations_as_specified"].get<uint64_t>(),
            a["overdraft"]["sent"].get<uint64_t>() + a["freeze"].get<uint64_t>() +
                a["close"].get<uint64_t>());
  EXPECT_EQ(run.result["figures"]["unresolved"].get<uint64_t>(), 0u);
  remove_folder_unless_failed(run);
}

// The negative control of the accounts checks: in private temporary copies of the run's rows
// (accounts, transactions, holds, transfers_in_transit shadow the real tables inside the checks'
// transaction; nothing real is written) one defect per SQL check is planted, and the driver's
// record of one account is miscounted by one minor unit: every accounts check fails, each with the
// violations its defects make, and every release 1 and 2 check still holds.
TEST(WalletStressTest, PlantedAccountDefectsFailTheRun) {
  auto run = run_wallet_stress({"--users=4", "--transfers=200", "--concurrency=8",
                                "--currencies=EUR,JPY", "--settle-wait=1", "--duration-limit=120",
                                "--mix=transfer=30,xfer_acct=50,overdraft=5,freeze=5,close=10",
                                "--self-check-corrupt-accounts"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  std::map<std::string, uint64_t> failed;
  for (const auto& invariant : run.result["invariants"]) {
    if (invariant["passed"].get<bool>()) continue;
    failed[invariant["name"].get<std::string>()] = invariant["violations"].get<uint64_t>();
  }
  // The replay check fails once for its control; more if the service answers a replay wrongly
  // too (then the run without the control fails as well).
  const std::string replays =
      "accounts: a key answered before its account closed is replayed after the close";
  ASSERT_TRUE(failed.count(replays)) << run.output;
  EXPECT_GE(failed[replays], 1u);
  failed.erase(replays);
  EXPECT_EQ(
      failed,
      (std::map<std::string, uint64_t>{
          // Through the API: the miscounted record of one account.
          {"accounts: each balance = funding + credits - debits of its 200 answers (GET "
           "/accounts/{id})",
           1},
          {"accounts: money conserved per currency (sum of balances = funding + deposits - "
           "withdrawals)",
           1},
          {"accounts: balance >= -overdraft_limit and available = balance + overdraft_limit - "
           "holds",
           1},
          {"accounts: currency, status and overdraft line = the driver's record", 1},
          {"accounts: every overdraft, freeze and close answered as SPEC section 8 says", 1},
          // In SQL: the planted defects (and the miscounted record).
          {"sql: accounts: balance >= -overdraft_limit per account", 1},
          {"sql: accounts: balance = sum(balance_change) of its rows, per account", 1},
          {"sql: accounts: rows chained per account (old_balance = the previous row's "
           "new_balance by seq, old + change = new)",
           1},
          {"sql: accounts: closed accounts hold 0 and no pending hold", 1},
          {"sql: accounts: per currency, sum of balances + in transit = deposits - withdrawals", 2},
          {"sql: accounts: no row in another currency than its account's", 2},
          {"sql: accounts: every transfer's rows in one currency", 1},
          {"sql: accounts: stored balances = the driver's expectation", 2},
          {"sql: accounts: status and overdraft line = the driver's record", 2},
          {"sql: accounts: GET /accounts/{id} balance = the stored balance", 1}}))
      << run.output;
  remove_folder_unless_failed(run);
}

// A paced run of small transfers (no duplicates, more keys than the time allows): `workers`
// workers told `rate` sends/s for `seconds`.
ToolRun run_paced(int workers, const std::string& rate, const std::string& seconds) {
  return run_wallet_stress({"--users=10", "--transfers=100000",
                            "--concurrency=" + std::to_string(workers), "--rate=" + rate,
                            "--duration-limit=" + seconds, "--duplicate-share=0",
                            "--min-amount=0.01", "--max-amount=0.10", "--seed=13"});
}

// Paced runs (--rate): the sends keep to the schedule, and latency is also counted from each
// send's scheduled instant, so that a send a busy worker held back counts its wait. scripts/bench's
// p99 at half the maximum rate is that figure.
TEST(WalletStressTest, PacedRunKeepsItsScheduleAndCountsLatencyFromIt) {
  auto run = run_paced(8, "200", "3");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  const auto& f = run.result["figures"];
  // 3 s at 200/s is 600 scheduled sends; unpaced, 8 workers send thousands in that time.
  const auto sent = f["transfers"].get<uint64_t>();
  EXPECT_LE(sent, 600u);
  EXPECT_GE(sent, 540u) << run.output;
  const auto& paced = f["paced"];
  ASSERT_TRUE(paced.is_object()) << run.result.dump(2);
  EXPECT_EQ(paced["rate"].get<double>(), 200.0);
  EXPECT_LE(paced["late_sends"].get<uint64_t>(), sent / 4) << "8 workers keep 200/s easily";
  const auto& from_schedule = paced["latency_from_schedule_ms"];
  EXPECT_GT(from_schedule["p50"].get<double>(), 0.0);
  EXPECT_GE(from_schedule["p99"].get<double>(), f["latency_ms"]["p99"].get<double>() - 0.01);
  EXPECT_GE(from_schedule["max"].get<double>(), from_schedule["p99"].get<double>());
  EXPECT_NE(run.output.find("latency from the schedule"), std::string::npos) << run.output;
  remove_folder_unless_failed(run);
}

// Its negative control: one worker told to keep 5000 sends/s cannot, so most sends leave late and
// the latency from the schedule (the wait of a client arriving on time) far exceeds the latency of
// each request, which is what a driver that measured only from its own sends would have reported.
TEST(WalletStressTest, APaceTheWorkersCannotKeepShowsInLateSendsAndLatencyFromTheSchedule) {
  auto run = run_paced(1, "5000", "1.5");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  const auto& f = run.result["figures"];
  const auto sent = f["transfers"].get<uint64_t>();
  EXPECT_LT(sent, 5000u * 3 / 2) << "one worker cannot send 5000/s";
  const auto& paced = f["paced"];
  ASSERT_TRUE(paced.is_object()) << run.result.dump(2);
  EXPECT_GT(paced["late_sends"].get<uint64_t>(), sent / 2) << run.output;
  const double per_request = f["latency_ms"]["p99"].get<double>();
  const double from_schedule = paced["latency_from_schedule_ms"]["p99"].get<double>();
  EXPECT_GT(from_schedule, 50.0) << run.output;
  EXPECT_GT(from_schedule, 5 * per_request) << run.output;
  remove_folder_unless_failed(run);
}

// Unpaced runs have no schedule to count from.
TEST(WalletStressTest, AnUnpacedRunReportsNoSchedule) {
  auto run = run_wallet_stress({"--users=4", "--transfers=100", "--concurrency=4",
                                "--duplicate-share=0", "--duration-limit=60"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  EXPECT_TRUE(run.result["figures"]["paced"].is_null()) << run.result["figures"].dump(2);
  EXPECT_EQ(run.output.find("latency from the schedule"), std::string::npos) << run.output;
  remove_folder_unless_failed(run);
}

}  // namespace
}  // namespace wallet::test
