// The nemesis checker on small hand-made histories: a clean one passes, and each property fails on
// the defect it exists for (the negative controls of tools/nemesis/plant.hpp among them).
#include "tools/nemesis/checker.hpp"

#include <gtest/gtest.h>

#include "tools/nemesis/plant.hpp"

namespace wallet::nemesis {
namespace {

const std::string kAda = "00000000-0000-4000-8000-0000000000a1";
const std::string kBob = "00000000-0000-4000-8000-0000000000b2";
constexpr int64_t kMs = 1000000;

Op make_op(int64_t id, std::string f, nlohmann::json args, int64_t invoke_ms, int64_t complete_ms,
           nlohmann::json body, std::string outcome = "ok") {
  Op op;
  op.id = id;
  op.f = std::move(f);
  op.key = op.f == "read" ? "" : "k" + std::to_string(id);
  op.args = std::move(args);
  op.invoke_ns = invoke_ms * kMs;
  op.complete_ns = complete_ms * kMs;
  op.outcome = std::move(outcome);
  op.status = op.outcome == "ok" ? 200 : 0;
  op.body = std::move(body);
  op.attempts = 1;
  return op;
}

LedgerRow make_row(std::string id, int64_t seq, const std::string& account, std::string kind,
                   int64_t change, int64_t old_balance, std::string transfer_id,
                   std::string commit) {
  return {std::move(id),
          seq,
          account,
          std::move(kind),
          change,
          old_balance,
          old_balance + change,
          std::move(transfer_id),
          "",
          "USD",
          std::move(commit)};
}

// Ada deposits 100.00 (t 0..10 ms), sends Bob 30.00 (t 20..30 ms, one commit), both are read.
struct SmallRun {
  std::vector<Op> ops;
  Snapshot snapshot;
  explicit SmallRun(bool credit_in_transit = false) {
    ops.push_back(make_op(1, "deposit", {{"account", kAda}, {"amount", "100.00"}}, 0, 10,
                          {{"transaction_id", "r1"}}));
    ops.push_back(make_op(2, "transfer", {{"from", kAda}, {"to", kBob}, {"amount", "30.00"}}, 20,
                          30, {{"transfer_id", "t1"}}));
    ops.push_back(make_op(3, "read", {{"account", kAda}}, 40, 41, {{"balance", "70.00"}}));
    ops.push_back(make_op(4, "read", {{"account", kBob}}, 40, 41, {{"balance", "30.00"}}));
    snapshot.accounts = {{kAda, "USD", 7000}, {kBob, "USD", 3000}};
    snapshot.rows = {
        make_row("r1", 1, kAda, "deposit", 10000, 0, "", "c1"),
        make_row("d1", 2, kAda, "transfer_debit", -3000, 10000, "t1", "c2"),
        make_row("k1", 3, kBob, "transfer_credit", 3000, 0, "t1", credit_in_transit ? "c3" : "c2")};
  }
};

TEST(NemesisCheckerTest, CleanRunHasNoAnomaly) {
  SmallRun run;
  const CheckResult r = check(run.ops, run.snapshot);
  EXPECT_TRUE(r.anomalies.empty())
      << r.anomalies.front().property << ": " << r.anomalies.front().detail;
  EXPECT_EQ(r.reads_checked, 2);
  EXPECT_EQ(r.rows_checked, 3);
}

TEST(NemesisCheckerTest, PlantedDefectsAreEachCaughtByTheirProperty) {
  for (const std::string defect : {"lost-write", "doubled-credit", "stale-read"}) {
    SmallRun run;
    plant(defect, run.ops, run.snapshot);
    const CheckResult r = check(run.ops, run.snapshot);
    EXPECT_GT(r.count(property_caught_by(defect)), 0) << defect;
  }
}

TEST(NemesisCheckerTest, ReadOfTheBalanceBeforeACompletedTransferIsStale) {
  SmallRun run;
  run.ops[2] = make_op(3, "read", {{"account", kAda}}, 40, 41, {{"balance", "100.00"}});
  EXPECT_EQ(check(run.ops, run.snapshot).count("stale-read"), 1);
}

TEST(NemesisCheckerTest, ReadConcurrentWithTheTransferMaySeeEitherSide) {
  SmallRun run;
  run.ops[2] = make_op(3, "read", {{"account", kAda}}, 25, 26, {{"balance", "100.00"}});
  run.ops.push_back(make_op(5, "read", {{"account", kAda}}, 25, 26, {{"balance", "70.00"}}));
  EXPECT_EQ(check(run.ops, run.snapshot).count("stale-read"), 0);
}

TEST(NemesisCheckerTest, ReadOfAValueNeverHeldOrFromTheFutureIsFlagged) {
  SmallRun run;
  run.ops[2] = make_op(3, "read", {{"account", kAda}}, 40, 41, {{"balance", "55.00"}});
  run.ops[3] =
      make_op(4, "read", {{"account", kBob}}, 1, 2, {{"balance", "30.00"}});  // before the transfer
  EXPECT_EQ(check(run.ops, run.snapshot).count("stale-read"), 2);
}

TEST(NemesisCheckerTest, CreditInTransitMayArriveAfterTheAnswer) {
  SmallRun run(/*credit_in_transit=*/true);
  run.ops[3] = make_op(4, "read", {{"account", kBob}}, 40, 41, {{"balance", "0.00"}});
  EXPECT_EQ(check(run.ops, run.snapshot).count("stale-read"), 0);
}

TEST(NemesisCheckerTest, RowsNobodyAskedForArePhantoms) {
  SmallRun run;
  run.ops[1].outcome = "fail";  // the client was told the transfer was refused
  const CheckResult r = check(run.ops, run.snapshot);
  EXPECT_EQ(r.count("phantom"), 1);
}

TEST(NemesisCheckerTest, UnknownOutcomeLeftUnresolvedIsAnAnomaly) {
  SmallRun run;
  run.ops.push_back(
      make_op(5, "deposit", {{"account", kBob}, {"amount", "1.00"}}, 50, 60, "timeout", "info"));
  EXPECT_EQ(check(run.ops, run.snapshot).count("unresolved"), 1);
}

TEST(NemesisCheckerTest, MoneyCreatedInTheLedgerBreaksConservation) {
  SmallRun run;
  run.snapshot.rows.push_back(make_row("r9", 4, kBob, "deposit", 500, 3000, "", "c9"));
  run.snapshot.accounts[1].balance = 3500;
  const CheckResult r = check(run.ops, run.snapshot);
  EXPECT_EQ(r.count("money-conserved"), 1);
  EXPECT_EQ(r.count("phantom"), 1);
}

TEST(NemesisCheckerTest, BrokenChainIsFlagged) {
  SmallRun run;
  run.snapshot.rows[1].old_balance = 9000;
  EXPECT_GT(check(run.ops, run.snapshot).count("ledger-chain"), 0);
}

}  // namespace
}  // namespace wallet::nemesis
