// Release 3, part 2 (SPEC.md section 8, "Transactions of many postings") as a client sees it,
// against the running stack: POST /transactions (payments with a fee, splits, an exchange through
// liquidity accounts, @world legs), all or nothing with the balance rules on each account's net
// change and refusals that name the account, idempotency, GET /transactions/{id} for transactions
// of every endpoint, reversals whole and partial (racing ones too), the rows in Postgres, and
// GET /admin/totals with @world.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kWorld = "@world";

json posting(const std::string& from, const std::string& to, const std::string& amount,
             const std::string& currency = "EUR") {
  return {{"from", from}, {"to", to}, {"amount", amount}, {"currency", currency}};
}

class TransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = create_user(users_, unique_email("postings"));
    ASSERT_EQ(created.status, 201) << created.body;
    user_ = created.json()["user_id"].get<std::string>();
    ASSERT_TRUE(wait_for_account(ledger_, user_, 20s)) << "no default account for " << user_;
  }

  // Opens an account of the test's user (ASSERTs the 201).
  void open(const std::string& currency, std::string* id) {
    auto r = ledger_.post("/accounts", json{{"user_id", user_}, {"currency", currency}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    *id = r.json()["account_id"].get<std::string>();
  }

  HttpResponse transact(const std::vector<json>& postings, const json& extra = json::object(),
                        const HttpHeaders& headers = {}) {
    json body = extra;
    body["postings"] = json(postings);
    return ledger_.post("/transactions", body.dump(), headers);
  }

  // A transaction that must commit; returns its id.
  std::string committed(const std::vector<json>& postings, const json& extra = json::object()) {
    auto r = transact(postings, extra);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json()["transaction_id"].get<std::string>() : "";
  }

  std::string balance(const std::string& account) {
    auto r = ledger_.get("/accounts/" + account);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json()["balance"].get<std::string>() : "?";
  }

  HttpResponse reverse(const std::string& id, const json& body = json::object(),
                       const HttpHeaders& headers = {}) {
    return ledger_.post("/transactions/" + id + "/reverse", body.dump(), headers);
  }

  // Postgres: the rows of one transaction, as "account kind change posting" lines in commit order.
  std::vector<std::string> rows_of(const std::string& transaction_id) {
    pqxx::connection db(transaction_db_url());
    pqxx::nontransaction txn(db);
    std::vector<std::string> out;
    for (const auto& row : txn.exec_params(
             "SELECT account_id::text, kind, balance_change::text, posting FROM transactions"
             " WHERE transaction_id = $1::uuid ORDER BY seq",
             transaction_id)) {
      out.push_back(std::string(row[0].c_str()) + " " + row[1].c_str() + " " + row[2].c_str() +
                    " " + row[3].c_str());
    }
    return out;
  }

  // Each account's chain old -> new is gap-free and its balance is the sum of its rows.
  void expect_chains_hold(const std::vector<std::string>& accounts) {
    pqxx::connection db(transaction_db_url());
    pqxx::nontransaction txn(db);
    for (const auto& id : accounts) {
      auto broken = txn.exec_params(
          "SELECT count(*) FROM (SELECT old_balance, lag(new_balance) OVER (ORDER BY seq) AS prev"
          " FROM transactions WHERE account_id = $1::uuid) c WHERE prev IS NOT NULL"
          " AND prev <> old_balance",
          id);
      EXPECT_EQ(broken[0][0].as<int>(), 0) << "chain of " << id;
      auto sums = txn.exec_params(
          "SELECT a.balance = coalesce(sum(t.balance_change), 0) FROM accounts a"
          " LEFT JOIN transactions t ON t.account_id = a.account_id"
          " WHERE a.account_id = $1::uuid GROUP BY a.balance",
          id);
      EXPECT_TRUE(sums[0][0].as<bool>()) << "balance of " << id << " is not the sum of its rows";
    }
  }

  HttpClient users_{user_service_url()};
  HttpClient ledger_{transaction_service_url()};
  std::string user_;
};

TEST_F(TransactionsTest, APaymentWithAFeeAppliesEveryPostingInOneTransaction) {
  std::string payer, merchant, fees;
  open("EUR", &payer);
  open("EUR", &merchant);
  open("EUR", &fees);
  committed({posting(kWorld, payer, "100.00")});
  auto r = transact({posting(payer, merchant, "30.00"), posting(payer, fees, "1.50")},
                    {{"metadata", {{"order", "o-1"}}}, {"reference", "pay-1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto body = r.json();
  const auto id = body["transaction_id"].get<std::string>();
  EXPECT_EQ(body["postings"].size(), 2u);
  EXPECT_EQ(body["postings"][1]["amount"], "1.50");
  EXPECT_EQ(body["postings"][1]["currency"], "EUR");
  EXPECT_EQ(body["metadata"], (json{{"order", "o-1"}}));
  EXPECT_EQ(body["reference"], "pay-1");
  EXPECT_TRUE(body["created_at"].is_string());
  EXPECT_EQ(balance(payer), "68.50");
  EXPECT_EQ(balance(merchant), "30.00");
  EXPECT_EQ(balance(fees), "1.50");
  EXPECT_EQ(rows_of(id),
            (std::vector<std::string>{
                payer + " posting_debit -30.00 0", merchant + " posting_credit 30.00 0",
                payer + " posting_debit -1.50 1", fees + " posting_credit 1.50 1"}));
  auto read = ledger_.get("/transactions/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  for (const char* field : {"transaction_id", "postings", "metadata", "reference", "created_at"}) {
    EXPECT_EQ(read.json()[field], body[field]) << field;
  }
  EXPECT_EQ(read.json()["reversed"], false);
  expect_chains_hold({payer, merchant, fees});
}

TEST_F(TransactionsTest, AllOrNothingTheRefusalNamesTheAccount) {
  std::string payer, other, payee;
  open("EUR", &payer);
  open("EUR", &other);
  open("EUR", &payee);
  committed({posting(kWorld, payer, "10.00"), posting(kWorld, other, "1.00")});
  // The second posting's payer cannot pay: nothing applies, not even the first posting.
  auto r = transact({posting(payer, payee, "5.00"), posting(other, payee, "2.00")});
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.error_code(), "insufficient_funds");
  EXPECT_EQ(r.json()["error"]["account_id"], other) << r.body;
  EXPECT_EQ(balance(payer), "10.00");
  EXPECT_EQ(balance(other), "1.00");
  EXPECT_EQ(balance(payee), "0.00");
  // Each account's net change decides: paying 15 while receiving 6 in one transaction.
  auto net = transact({posting(kWorld, payer, "6.00"), posting(payer, payee, "15.00")});
  ASSERT_EQ(net.status, 201) << net.body;
  EXPECT_EQ(balance(payer), "1.00");
  EXPECT_EQ(balance(payee), "15.00");
  expect_chains_hold({payer, other, payee});
}

TEST_F(TransactionsTest, AnExchangeMovesTwoCurrenciesThroughLiquidityAccounts) {
  std::string eur, usd, liquidity_eur, liquidity_usd, yen;
  open("EUR", &eur);
  open("USD", &usd);
  open("EUR", &liquidity_eur);
  open("USD", &liquidity_usd);
  open("JPY", &yen);
  committed({posting(kWorld, eur, "50.00"), posting(kWorld, liquidity_usd, "1000.00", "USD"),
             posting(kWorld, yen, "1500", "JPY")});
  auto id = committed(
      {posting(eur, liquidity_eur, "20.00"), posting(liquidity_usd, usd, "21.70", "USD")});
  EXPECT_EQ(balance(eur), "30.00");
  EXPECT_EQ(balance(liquidity_eur), "20.00");
  EXPECT_EQ(balance(liquidity_usd), "978.30");
  EXPECT_EQ(balance(usd), "21.70");
  EXPECT_EQ(balance(yen), "1500");
  // A posting whose currency its account does not hold names the account.
  auto mismatch = transact({posting(eur, yen, "1.00")});
  EXPECT_EQ(mismatch.status, 400) << mismatch.body;
  EXPECT_EQ(mismatch.error_code(), "currency_mismatch");
  EXPECT_EQ(mismatch.json()["error"]["account_id"], yen) << mismatch.body;
  auto fraction = transact({posting(yen, kWorld, "1.5", "JPY")});
  EXPECT_EQ(fraction.status, 400) << fraction.body;
  EXPECT_EQ(fraction.error_code(), "invalid_amount");
  EXPECT_EQ(balance(eur), "30.00");
  EXPECT_EQ(balance(yen), "1500");
  // Per currency the transaction nets to zero.
  pqxx::connection db(transaction_db_url());
  pqxx::nontransaction txn(db);
  auto sums = txn.exec_params(
      "SELECT currency, sum(balance_change)::text FROM transactions WHERE transaction_id = $1::uuid"
      " GROUP BY currency ORDER BY currency",
      id);
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_STREQ(sums[0][1].c_str(), "0.00");
  EXPECT_STREQ(sums[1][1].c_str(), "0.00");
}

TEST_F(TransactionsTest, FrozenAccountsOnlyReceiveAndClosedOnesNothing) {
  std::string frozen, payee, closed;
  open("EUR", &frozen);
  open("EUR", &payee);
  open("EUR", &closed);
  committed({posting(kWorld, frozen, "10.00")});
  auto patch = [&](const std::string& id, const std::string& status) {
    const std::string text = json{{"status", status}}.dump();
    auto r = ledger_.request("PATCH", "/accounts/" + id, &text);
    ASSERT_EQ(r.status, 200) << r.body;
  };
  patch(frozen, "frozen");
  patch(closed, "closed");
  auto paying = transact({posting(frozen, payee, "1.00")});
  EXPECT_EQ(paying.status, 409) << paying.body;
  EXPECT_EQ(paying.error_code(), "account_frozen");
  EXPECT_EQ(paying.json()["error"]["account_id"], frozen);
  // Paying and receiving more in one transaction is still a debit of a frozen account.
  auto netted = transact({posting(kWorld, frozen, "5.00"), posting(frozen, payee, "1.00")});
  EXPECT_EQ(netted.status, 409) << netted.body;
  EXPECT_EQ(netted.error_code(), "account_frozen");
  committed({posting(kWorld, frozen, "2.00")});  // a credit applies
  EXPECT_EQ(balance(frozen), "12.00");
  auto to_closed = transact({posting(kWorld, payee, "1.00"), posting(payee, closed, "1.00")});
  EXPECT_EQ(to_closed.status, 409) << to_closed.body;
  EXPECT_EQ(to_closed.error_code(), "account_closed");
  EXPECT_EQ(to_closed.json()["error"]["account_id"], closed);
  EXPECT_EQ(balance(payee), "0.00");
}

TEST_F(TransactionsTest, BadInputIsA4xxAndChangesNothing) {
  std::string account;
  open("EUR", &account);
  const std::string missing = "00000000-0000-4000-8000-000000000001";
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases{
      {"{", 400, "invalid_json"},
      {R"({"postings":[]})", 400, "invalid_postings"},
      {json{{"postings", json::array({posting(kWorld, kWorld, "1.00")})}}.dump(), 400,
       "invalid_postings"},
      {json{{"postings", json::array({posting(account, account, "1.00")})}}.dump(), 400,
       "same_account"},
      {json{{"postings", json::array({posting(kWorld, "x", "1.00")})}}.dump(), 400,
       "invalid_account_id"},
      {json{{"postings", json::array({posting(kWorld, account, "0")})}}.dump(), 400,
       "invalid_amount"},
      {json{{"postings", json::array({posting(kWorld, account, "1.001")})}}.dump(), 400,
       "invalid_amount"},
      {json{{"postings", json::array({posting(kWorld, account, "1.00", "ZZZ")})}}.dump(), 400,
       "invalid_currency"},
      {json{{"postings", json::array({posting(kWorld, account, "1.00")})}, {"metadata", {{"a", 1}}}}
           .dump(),
       400, "invalid_metadata"},
      {json{{"postings", json::array({posting(kWorld, account, "1.00")})}, {"reference", ""}}
           .dump(),
       400, "invalid_reference"},
      {json{{"postings", json::array({posting(kWorld, missing, "1.00")})}}.dump(), 404,
       "account_not_found"},
  };
  for (const auto& c : cases) {
    auto r = ledger_.post("/transactions", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(r.error_code(), c.code) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(balance(account), "0.00");
  EXPECT_EQ(ledger_.get("/transactions/not-a-uuid").error_code(), "invalid_transaction_id");
  auto unknown = ledger_.get("/transactions/" + missing);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "transaction_not_found");
  EXPECT_EQ(reverse(missing).error_code(), "transaction_not_found");
}

TEST_F(TransactionsTest, AKeyAppliesOnceAndReplaysItsAnswerRefusalsToo) {
  std::string payer, payee;
  open("EUR", &payer);
  open("EUR", &payee);
  const HttpHeaders key{{"Idempotency-Key", "postings-" + payer}};
  const std::vector<json> deposit{posting(kWorld, payer, "5.00")};
  auto first = transact(deposit, json::object(), key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = transact(deposit, json::object(), key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  auto other = transact({posting(kWorld, payer, "6.00")}, json::object(), key);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(other.error_code(), "idempotency_key_mismatch");
  EXPECT_EQ(balance(payer), "5.00");
  // A refusal decided on the money is the key's answer, even once the money is there.
  const HttpHeaders spend{{"Idempotency-Key", "spend-" + payer}};
  auto refused = transact({posting(payer, payee, "8.00")}, json::object(), spend);
  ASSERT_EQ(refused.status, 409) << refused.body;
  committed({posting(kWorld, payer, "10.00")});
  auto replayed = transact({posting(payer, payee, "8.00")}, json::object(), spend);
  EXPECT_EQ(replayed.status, 409);
  EXPECT_EQ(replayed.body, refused.body);
  EXPECT_EQ(balance(payee), "0.00");
}

TEST_F(TransactionsTest, EveryEndpointsOperationIsATransaction) {
  std::string other;
  open("USD", &other);
  auto deposit = ledger_.post("/addMoney", json{{"user_id", user_}, {"amount", "9.00"}}.dump());
  ASSERT_EQ(deposit.status, 200) << deposit.body;
  const auto deposit_id = deposit.json()["transaction_id"].get<std::string>();
  auto read = ledger_.get("/transactions/" + deposit_id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["postings"], (json::array({posting(kWorld, user_, "9.00", "USD")})));
  auto transfer = ledger_.post(
      "/transferMoney",
      json{{"from_account_id", user_}, {"to_account_id", other}, {"amount", "2.00"}}.dump());
  ASSERT_EQ(transfer.status, 200) << transfer.body;
  const auto transfer_id = transfer.json()["transfer_id"].get<std::string>();
  read = ledger_.get("/transactions/" + transfer_id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["postings"], (json::array({posting(user_, other, "2.00", "USD")})));
  auto withdrawal =
      ledger_.post("/withdrawMoney", json{{"user_id", user_}, {"amount", "1.00"}}.dump());
  ASSERT_EQ(withdrawal.status, 200) << withdrawal.body;
  read = ledger_.get("/transactions/" + withdrawal.json()["transaction_id"].get<std::string>());
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["postings"], (json::array({posting(user_, kWorld, "1.00", "USD")})));
  // A transfer of release 1 is reversed like any transaction of one posting.
  auto back = reverse(transfer_id, {{"amount", "0.50"}});
  ASSERT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(back.json()["reverses"], transfer_id);
  EXPECT_EQ(balance(other), "1.50");
  read = ledger_.get("/transactions/" + transfer_id);
  EXPECT_EQ(read.json()["reversed_amount"], "0.50");
}

TEST_F(TransactionsTest, ReversalsWholeAndInPartUntilNothingIsLeft) {
  std::string payer, payee, fees;
  open("EUR", &payer);
  open("EUR", &payee);
  open("EUR", &fees);
  committed({posting(kWorld, payer, "100.00")});
  auto payment = committed({posting(payer, payee, "30.00"), posting(payer, fees, "1.00")});
  auto partial = reverse(payment, {{"amount", "1.00"}});
  EXPECT_EQ(partial.status, 400) << "only one posting is reversed in part: " << partial.body;
  const HttpHeaders key{{"Idempotency-Key", "reverse-" + payment}};
  auto whole = reverse(payment, json::object(), key);
  ASSERT_EQ(whole.status, 201) << whole.body;
  EXPECT_EQ(whole.json()["reverses"], payment);
  EXPECT_EQ(whole.json()["postings"][0], posting(payee, payer, "30.00"));
  EXPECT_EQ(balance(payer), "100.00");
  EXPECT_EQ(balance(payee), "0.00");
  auto replay = reverse(payment, json::object(), key);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, whole.body);
  auto twice = reverse(payment);
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_EQ(twice.error_code(), "already_reversed");
  EXPECT_EQ(ledger_.get("/transactions/" + payment).json()["reversed"], true);

  auto single = committed({posting(payer, payee, "10.00")});
  ASSERT_EQ(reverse(single, {{"amount", "4.00"}}).status, 201);
  auto beyond = reverse(single, {{"amount", "7.00"}});
  EXPECT_EQ(beyond.status, 409) << beyond.body;
  EXPECT_EQ(beyond.error_code(), "already_reversed");
  ASSERT_EQ(reverse(single, {{"amount", "6.00"}}).status, 201);
  EXPECT_EQ(reverse(single).error_code(), "already_reversed");
  auto read = ledger_.get("/transactions/" + single).json();
  EXPECT_EQ(read["reversed_amount"], "10.00");
  EXPECT_EQ(read["reversed"], true);
  EXPECT_EQ(balance(payer), "100.00");
  // The payee spent it: the reversal follows the balance rules.
  auto spent = committed({posting(payer, payee, "5.00")});
  committed({posting(payee, kWorld, "5.00")});
  auto refused = reverse(spent);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.error_code(), "insufficient_funds");
  EXPECT_EQ(refused.json()["error"]["account_id"], payee);
  expect_chains_hold({payer, payee, fees});
}

TEST_F(TransactionsTest, RacingReversalsHaveOneWinnerPerAmount) {
  std::string payer, payee;
  open("EUR", &payer);
  open("EUR", &payee);
  committed({posting(kWorld, payer, "10.00")});
  auto original = committed({posting(payer, payee, "10.00")});
  // 8 reversals of 3.00 each race: at most 3 fit in 10.00.
  std::atomic<int> won{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&, i] {
      HttpClient client{transaction_service_url()};
      auto r =
          client.post("/transactions/" + original + "/reverse", json{{"amount", "3.00"}}.dump(),
                      {{"Idempotency-Key", "race-" + std::to_string(i) + "-" + original}});
      if (r.status == 201) ++won;
    });
  }
  for (auto& racer : racers) racer.join();
  EXPECT_GE(won.load(), 1);
  EXPECT_LE(won.load(), 3);
  auto read = ledger_.get("/transactions/" + original).json();
  EXPECT_EQ(read["reversed_amount"], std::to_string(won.load() * 3) + ".00");
  EXPECT_EQ(balance(payee), std::to_string(10 - won.load() * 3) + ".00");
  pqxx::connection db(transaction_db_url());
  pqxx::nontransaction txn(db);
  auto reversed = txn.exec_params(
      "SELECT count(*) FROM ledger_transactions WHERE reverses = $1::uuid", original);
  EXPECT_EQ(reversed[0][0].as<int>(), won.load());
  expect_chains_hold({payer, payee});
}

TEST_F(TransactionsTest, AdminTotalsShowWorldAsMinusDepositsLessWithdrawals) {
  std::string account;
  open("KWD", &account);
  committed({posting(kWorld, account, "1.500", "KWD")});
  const HttpHeaders admin{{"Authorization", "Bearer " + admin_token()}};
  auto r = ledger_.get("/admin/totals?verify=true", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  auto kwd = r.json()["currencies"]["KWD"];
  ASSERT_TRUE(kwd.is_object()) << r.body;
  EXPECT_EQ(kwd["rows_agree"], true) << r.body;
  EXPECT_EQ(kwd["world"], kwd["world_from_rows"]);
  EXPECT_EQ(kwd["world"].get<std::string>().front(), '-') << r.body;
  EXPECT_EQ(ledger_.get("/admin/totals").status, 401);
}

}  // namespace
}  // namespace wallet::test
