// wallet-stress --postings run as an operator runs it, against the stack of scripts/up: a short run
// of payments with a fee, splits, exchanges, @world deposits and withdrawals, transactions refused
// whole and reversals (whole, partial, racing), with duplicated keys, must hold every check; and
// each check's negative control (--self-check-postings) must make exactly that check fail.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test/e2e/stress/wallet_stress_tool.hpp"

namespace wallet::test {
namespace {

using stress_tool::read_text;
using stress_tool::remove_folder_unless_failed;
using stress_tool::run_wallet_stress;

const char* const kAnswers =
    "postings: every answer is one its request allows (201 with the postings sent, or the refusal "
    "planned)";
const char* const kConservation =
    "sql: postings: per currency, sum of the run's balances = its @world deposits - withdrawals "
    "(rows) = the driver's 201s";
const char* const kZeroSum =
    "sql: postings: every transaction nets to zero counting @world, and its rows match its "
    "postings in ledger_transactions";
const char* const kNoPartial =
    "sql: postings: no partial transaction (a 201 has every leg of its postings, a refusal left "
    "nothing), one outcome and one transaction per key";
const char* const kReversals =
    "sql: postings: reversals within bounds (sum <= the original, at most one whole reversal, "
    "transaction_reversals agrees, racing winners)";
const char* const kBalanceIsSum =
    "sql: accounts: balance = sum(balance_change) of its rows, per account";
const char* const kChained =
    "sql: accounts: rows chained per account (old_balance = the previous row's new_balance by "
    "seq, old + change = new)";
const char* const kExpected =
    "sql: postings: each account's stored balance = the driver's expectation";
const char* const kApi =
    "postings: GET /transactions/{id} = the 201 answered, reversed amounts = the reversals "
    "answered 201";

TEST(WalletStressPostingsTest, MixOfFeesSplitsExchangesAndReversalsHoldsEveryCheck) {
  auto run = run_wallet_stress({"--postings", "--users=6", "--transfers=600", "--concurrency=8",
                                "--duplicate-share=0.3", "--seed=23", "--duration-limit=20",
                                "--settle-wait=5"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.result.is_object()) << run.output;
  std::vector<std::string> names;
  for (const auto& invariant : run.result["invariants"]) {
    EXPECT_TRUE(invariant["passed"].get<bool>()) << invariant.dump(2);
    names.push_back(invariant["name"].get<std::string>());
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{kAnswers, kConservation, kZeroSum, kNoPartial, kReversals,
                                      kBalanceIsSum, kChained, kExpected, kApi}));

  const auto& f = run.result["figures"];
  EXPECT_EQ(f["unresolved"].get<uint64_t>(), 0u);
  EXPECT_EQ(f["requests"].get<uint64_t>(), f["transfers"].get<uint64_t>() +
                                               f["duplicates"].get<uint64_t>() +
                                               f["retries"].get<uint64_t>());
  EXPECT_GT(f["duplicates"].get<uint64_t>(), 100u);
  const auto& p = run.result["postings"];
  ASSERT_TRUE(p.is_object()) << run.result.dump(2);
  EXPECT_EQ(p["setup"]["currencies"], (nlohmann::json{"USD", "EUR", "JPY", "KWD"}));
  EXPECT_EQ(p["setup"]["accounts"].get<uint64_t>(), 6u * 4 + 2 * 4) << "per user 4, house 2 x 4";
  for (const char* kind : {"transfer", "payment", "split", "exchange", "deposit", "withdraw"}) {
    EXPECT_GT(p["kinds"][kind]["accepted"].get<uint64_t>(), 0u) << kind << ": " << p.dump(2);
  }
  // Refused whole, each for its planned reason; reversals of every sort, racing ones losing.
  const auto& refused = p["kinds"]["refused"];
  EXPECT_EQ(refused["accepted"].get<uint64_t>(), 0u) << p.dump(2);
  for (const char* code : {"insufficient_funds", "account_not_found", "currency_mismatch"}) {
    EXPECT_GT(refused["refused"].value(code, 0u), 0u) << code << ": " << p.dump(2);
  }
  const auto& reversals = p["reversals"];
  EXPECT_GT(reversals["whole"].get<uint64_t>(), 0u);
  EXPECT_GT(reversals["partial"].get<uint64_t>(), 0u);
  EXPECT_GT(reversals["racing_groups"].get<uint64_t>(), 0u);
  EXPECT_LT(reversals["racing_winners"].get<uint64_t>(), reversals["racing"].get<uint64_t>());
  EXPECT_GT(p["kinds"]["reverse"]["refused"].value("already_reversed", 0u), 0u) << p.dump(2);

  const std::string html = read_text(run.folder + "/report.html");
  EXPECT_NE(html.find("Transactions of many postings"), std::string::npos);
  EXPECT_NE(html.find("reversals within bounds"), std::string::npos);
  EXPECT_NE(run.output.find("PASS  sql: postings: per currency"), std::string::npos) << run.output;
  remove_folder_unless_failed(run);
}

// Each negative control plants one violation (in private temporary copies of the tables the SQL
// checks read, or in the driver's own record where the service's state is not ours to change) and
// exactly its check fails, with the violations planted; the SQL controls also report that they
// could plant (a passing check of their own).
TEST(WalletStressPostingsTest, EachPlantedViolationFailsItsCheck) {
  const std::map<std::string, std::map<std::string, uint64_t>> expected{
      {"outcomes", {{kAnswers, 1}}},
      {"conservation", {{kConservation, 2}}},  // two currencies' totals
      {"zero-sum", {{kZeroSum, 2}}},           // the two transactions the unit moved between
      {"partial", {{kNoPartial, 3}}},  // merged debits, a refused key's record, a second record
      {"reversals", {{kReversals, 2}}},
      {"chain", {{kBalanceIsSum, 2}, {kChained, 1}, {kExpected, 2}}},
      {"api", {{kApi, 1}}},
  };
  for (const auto& [check, failures] : expected) {
    auto run = run_wallet_stress({"--postings", "--users=4", "--transfers=200", "--concurrency=8",
                                  "--seed=3", "--settle-wait=1", "--duration-limit=60",
                                  "--self-check-postings=" + check});
    EXPECT_EQ(run.exit_code, 1) << check << "\n" << run.output;
    ASSERT_TRUE(run.result.is_object()) << check << "\n" << run.output;
    std::map<std::string, uint64_t> failed;
    for (const auto& invariant : run.result["invariants"]) {
      if (!invariant["passed"].get<bool>()) {
        failed[invariant["name"].get<std::string>()] = invariant["violations"].get<uint64_t>();
      }
      if (invariant["name"] == "sql: postings: the self-check planted its defects") {
        EXPECT_TRUE(invariant["passed"].get<bool>()) << check << ": " << invariant.dump(2);
      }
    }
    EXPECT_EQ(failed, failures) << check << "\n" << run.output;
    remove_folder_unless_failed(run);
  }
}

}  // namespace
}  // namespace wallet::test
