// POST /transactions/bulk against the running stack: every operation runs as its own endpoint
// would run it (statuses, bodies byte for byte, idempotency by its own key, the balance rules),
// results come back in request order, a bad envelope runs nothing, a retried bulk replays what ran,
// and the bulk's 1 MiB body limit applies to it alone.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json op(const std::string& action, const std::string& key, const json& data) {
  return {{"action", action}, {"idempotency_key", key}, {"data", data}};
}

class BulkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = create_user(users_, unique_email("bulk"));
    ASSERT_EQ(created.status, 201) << created.body;
    user_ = created.json()["user_id"].get<std::string>();
    ASSERT_TRUE(wait_for_account(ledger_, user_, 20s)) << "no default account for " << user_;
    open(&payer_);
    open(&payee_);
    prefix_ = "bulk-" + domain::new_uuid_v4() + "-";
  }

  void open(std::string* id) {
    auto r = ledger_.post("/accounts", json{{"user_id", user_}, {"currency", "EUR"}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    *id = r.json()["account_id"].get<std::string>();
  }

  std::string balance(const std::string& account) {
    auto r = ledger_.get("/accounts/" + account);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json()["balance"].get<std::string>() : "?";
  }

  HttpResponse bulk(const std::vector<json>& operations) {
    return ledger_.post("/transactions/bulk", json{{"operations", operations}}.dump());
  }

  json deposit(const std::string& key, const std::string& amount) {
    return op("deposit", prefix_ + key, {{"account_id", payer_}, {"amount", amount}});
  }
  json transfer(const std::string& key, const std::string& amount) {
    return op("transfer", prefix_ + key,
              {{"from_account_id", payer_}, {"to_account_id", payee_}, {"amount", amount}});
  }

  HttpClient users_{user_service_url()};
  HttpClient ledger_{transaction_service_url()};
  std::string user_, payer_, payee_, prefix_;
};

TEST_F(BulkTest, EveryOperationIsAnsweredInOrderAsItsOwnEndpointAnswersIt) {
  ASSERT_EQ(bulk({deposit("d", "100.00")}).status, 200);
  auto r = bulk({
      transfer("t1", "30.00"),
      transfer("t2", "500.00"),  // over the balance
      transfer("t3", "1.234"),   // 3 decimals in EUR
      op("withdrawal", prefix_ + "w", {{"account_id", payer_}, {"amount", "5.00"}}),
      op("transaction", prefix_ + "x",
         {{"postings",
           {{{"from", payer_}, {"to", payee_}, {"amount", "10.00"}, {"currency", "EUR"}},
            {{"from", payer_}, {"to", "@world"}, {"amount", "0.50"}, {"currency", "EUR"}}}}}),
      op("hold", prefix_ + "h",
         {{"from_account_id", payer_}, {"to_account_id", payee_}, {"amount", "2.00"}}),
  });
  ASSERT_EQ(r.status, 200) << r.body;
  auto results = r.json()["results"];
  ASSERT_EQ(results.size(), 6u) << r.body;
  const std::vector<int> statuses{200, 409, 400, 200, 201, 201};
  for (size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_EQ(results[i]["status"], statuses[i]) << i << ": " << results[i].dump();
    EXPECT_EQ(results[i]["replayed"], false) << i;
  }
  EXPECT_EQ(results[1]["body"]["error"]["code"], "insufficient_funds");
  EXPECT_EQ(results[2]["body"]["error"]["code"], "invalid_amount");
  EXPECT_EQ(results[0]["body"]["amount"], "30.00");
  EXPECT_EQ(results[4]["body"]["postings"].size(), 2u);
  EXPECT_EQ(results[5]["body"]["status"], "pending");
  // 100 - 30 - 5 - 10 - 0.50 (the hold reserves, it does not move)
  EXPECT_EQ(balance(payer_), "54.50");
  EXPECT_EQ(balance(payee_), "40.00");
  // The transaction is a transaction like any other.
  auto id = results[4]["body"]["transaction_id"].get<std::string>();
  EXPECT_EQ(ledger_.get("/transactions/" + id).status, 200);
  // capture and void and reverse take their id beside data.
  auto hold_id = results[5]["body"]["hold_id"].get<std::string>();
  auto second = bulk(
      {json{{"action", "void"}, {"idempotency_key", prefix_ + "v"}, {"hold_id", hold_id}},
       json{{"action", "reverse"}, {"idempotency_key", prefix_ + "r"}, {"transaction_id", id}}});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["results"][0]["body"]["status"], "voided") << second.body;
  EXPECT_EQ(second.json()["results"][1]["status"], 201) << second.body;
  EXPECT_EQ(balance(payer_), "65.00");
  EXPECT_EQ(balance(payee_), "30.00");
  // Operations are counted apart from single requests, by their endpoint and status.
  auto metrics = ledger_.get("/metrics");
  EXPECT_NE(metrics.body.find(R"(route="bulk:/transferMoney",status="409")"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(route="bulk:/holds/{hold_id}/void",status="200")"),
            std::string::npos);
}

TEST_F(BulkTest, ARetriedBulkReplaysWhatRanByteForByte) {
  // Operations of one bulk run concurrently, in no order: the deposit comes first, alone.
  ASSERT_EQ(bulk({deposit("d", "10.00")}).status, 200);
  std::vector<json> operations{deposit("d", "10.00"), transfer("t1", "4.00"),
                               transfer("t2", "400.00")};
  auto first = bulk(operations);
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = bulk(operations);
  ASSERT_EQ(again.status, 200) << again.body;
  auto a = first.json()["results"], b = again.json()["results"];
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b[i]["status"], a[i]["status"]) << i;
    EXPECT_EQ(b[i]["body"], a[i]["body"]) << i;
    EXPECT_EQ(b[i]["replayed"], true) << i;
  }
  // The bulk's operation bytes are the endpoint's bytes: a single request with the key replays
  // the very body the bulk carried.
  auto single = ledger_.post(
      "/transferMoney",
      json{{"from_account_id", payer_}, {"to_account_id", payee_}, {"amount", "4.00"}}.dump(),
      {{"Idempotency-Key", prefix_ + "t1"}});
  ASSERT_EQ(single.status, 200) << single.body;
  EXPECT_EQ(single.headers["idempotent-replayed"], "true");
  EXPECT_NE(first.body.find(single.body), std::string::npos) << single.body << "\n" << first.body;
  // The same key with another body is that operation's 422, and only its.
  auto changed = bulk({transfer("t1", "5.00"), transfer("t3", "1.00")});
  ASSERT_EQ(changed.status, 200);
  EXPECT_EQ(changed.json()["results"][0]["status"], 422) << changed.body;
  EXPECT_EQ(changed.json()["results"][1]["status"], 200) << changed.body;
  EXPECT_EQ(balance(payer_), "5.00");
  EXPECT_EQ(balance(payee_), "5.00");
}

TEST_F(BulkTest, ABadEnvelopeRunsNothing) {
  auto r = bulk({deposit("d", "10.00"), json{{"action", "steal"}, {"idempotency_key", "x"}}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "invalid_bulk");
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("operations[1]"),
            std::string::npos);
  auto missing_key =
      ledger_.post("/transactions/bulk", R"({"operations":[{"action":"deposit","data":{}}]})");
  EXPECT_EQ(missing_key.status, 400) << missing_key.body;
  EXPECT_EQ(ledger_.post("/transactions/bulk", "{").json()["error"]["code"], "invalid_json");
  EXPECT_EQ(ledger_.post("/transactions/bulk", R"({"operations":[]})").status, 400);
  EXPECT_EQ(ledger_.get("/transactions/bulk").status, 405);
  EXPECT_EQ(balance(payer_), "0.00");
  // The deposit's key was never used: it runs now, as a first request.
  auto now = bulk({deposit("d", "10.00")});
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(now.json()["results"][0]["replayed"], false);
  EXPECT_EQ(balance(payer_), "10.00");
}

TEST_F(BulkTest, AThousandTransfersApplyOnceEachAndConserveMoney) {
  ASSERT_EQ(bulk({deposit("d", "1000.00")}).status, 200);
  std::vector<json> operations;
  for (int i = 0; i < 1000; ++i) operations.push_back(transfer("t" + std::to_string(i), "1.00"));
  const std::string body = json{{"operations", operations}}.dump();
  ASSERT_GT(body.size(), 64u * 1024) << "the bulk is over the 64 KiB of other routes";
  auto r = ledger_.post("/transactions/bulk", body);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  int ok = 0;
  std::map<int, int> statuses;
  const auto answer = r.json();
  for (const auto& result : answer["results"]) {
    ok += result["status"] == 200 ? 1 : 0;
    ++statuses[result["status"].get<int>()];
  }
  EXPECT_EQ(ok, 1000) << json(statuses).dump();
  EXPECT_EQ(balance(payer_), "0.00");
  EXPECT_EQ(balance(payee_), "1000.00");
  pqxx::connection db(transaction_db_url());
  pqxx::nontransaction txn(db);
  auto rows = txn.exec_params(
      "SELECT count(*), coalesce(sum(balance_change), 0)::text FROM transactions"
      " WHERE account_id = $1::uuid",
      payee_);
  EXPECT_EQ(rows[0][0].as<int>(), 1000);
  EXPECT_EQ(std::string(rows[0][1].c_str()), "1000.00");
  // One more is refused: the money is all gone.
  auto over = bulk({transfer("one-more", "0.01")});
  EXPECT_EQ(over.json()["results"][0]["status"], 409) << over.body;
}

TEST_F(BulkTest, OnlyTheBulkRouteTakesBodiesOver64KiB) {
  const std::string padding(70 * 1024, ' ');
  auto single = ledger_.post("/transferMoney", "{" + padding + "}");
  EXPECT_EQ(single.status, 413) << single.body;
  const std::string huge(1024 * 1024 + 10, ' ');
  auto over = ledger_.post("/transactions/bulk", "{" + huge + "}");
  EXPECT_EQ(over.status, 413) << over.body.substr(0, 300);
  if (over.status == 413) {
    EXPECT_EQ(over.json()["error"]["code"], "payload_too_large");
  }
  auto under = ledger_.post("/transactions/bulk",
                            R"({"operations":[)" + padding + deposit("d", "1.00").dump() + "]}");
  EXPECT_EQ(under.status, 200) << under.body;
  // Its head is held to the limit of every route's.
  auto big_head =
      ledger_.post("/transactions/bulk", json{{"operations", {deposit("e", "1.00")}}}.dump(),
                   {{"X-Padding", std::string(100 * 1024, 'a')}});
  EXPECT_EQ(big_head.status, 413) << big_head.body.substr(0, 300);
  EXPECT_EQ(balance(payer_), "1.00");
}

}  // namespace
}  // namespace wallet::test
