// transaction-service's HTTP contract (SPEC.md section 2) as a client sees it: exact money in and
// out, every error code with the JSON error shape, history, and the admin API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

class TransactionApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ids_ = create_accounts(db_, 2); }

  HttpResponse add(const std::string& body, const HttpHeaders& headers = {}) {
    return client_.post("/addMoney", body, headers);
  }

  pqxx::connection db_{transaction_db_url()};
  HttpClient client_{transaction_service_url()};
  std::vector<std::string> ids_;
};

TEST_F(TransactionApiTest, AmountsAreExactAsStringsAndAsNumbers) {
  auto r = add(R"({"user_id":")" + ids_[0] + R"(","amount":"0.10"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = add(R"({"user_id":")" + ids_[0] + R"(","amount":0.20})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["updated_balance"], "0.30");  // 0.1 + 0.2 exactly, no binary float
  r = add(R"({"user_id":")" + ids_[0] + R"(","amount":1000000000.00})");
  EXPECT_EQ(r.json()["updated_balance"], "1000000000.30");
  EXPECT_TRUE(domain::is_uuid(r.json()["transaction_id"].get<std::string>()));
  auto balance = client_.get("/users/" + ids_[0] + "/balance");
  EXPECT_EQ(balance.status, 200);
  EXPECT_EQ(balance.json(), (nlohmann::json{{"user_id", ids_[0]},
                                            {"balance", "1000000000.30"},
                                            {"available_balance", "1000000000.30"}}));
}

TEST_F(TransactionApiTest, InvalidAmountsAre400AndChangeNothing) {
  for (const char* amount :
       {R"("")", R"("0")", "0", R"("-1.00")", "-5", R"("1.001")", "1e3", R"("1e3")", R"("NaN")",
        R"("Infinity")", R"("1000000000.01")", "1000000000.01", R"(" 1.00")", "true", "null",
        R"("1,00")", "123456789012345678901234567890"}) {
    auto r = add(R"({"user_id":")" + ids_[0] + R"(","amount":)" + amount + "}");
    EXPECT_EQ(r.status, 400) << amount;
    EXPECT_EQ(r.error_code(), "invalid_amount") << amount << " " << r.body;
  }
  EXPECT_EQ(db_balance(db_, ids_[0]), "0.00");
}

TEST_F(TransactionApiTest, MalformedRequestsGetTheirErrorCodes) {
  struct Case {
    std::string path, body, code;
    int status;
  };
  const std::string a = ids_[0], b = ids_[1];
  std::vector<Case> cases{
      {"/addMoney", "{", "invalid_json", 400},
      {"/addMoney", "[]", "invalid_json", 400},
      {"/addMoney", "", "invalid_json", 400},
      {"/addMoney", R"({"user_id":"nope","amount":"1.00"})", "invalid_user_id", 400},
      {"/addMoney", R"({"user_id":7,"amount":"1.00"})", "invalid_user_id", 400},
      {"/addMoney", R"({"amount":"1.00"})", "invalid_user_id", 400},
      {"/addMoney", R"({"user_id":")" + a + R"(","amount":"1.00","amount":"2.00"})", "invalid_json",
       400},
      {"/addMoney", R"({"user_id":")" + a + R"(","amount":{"v":1}})", "invalid_json", 400},
      {"/addMoney", R"({"user_id":")" + domain::new_uuid_v4() + R"(","amount":"1.00"})",
       "user_not_found", 404},
      {"/transferMoney",
       R"({"from_user_id":")" + a + R"(","to_user_id":")" + a + R"(","amount_to_transfer":"1.00"})",
       "same_account", 400},
      {"/transferMoney",
       R"({"from_user_id":")" + a + R"(","to_user_id":")" + b + R"(","amount_to_transfer":"1.00"})",
       "insufficient_funds", 409},
      {"/transferMoney", R"({"from_user_id":")" + a + R"(","to_user_id":")" + b + R"("})",
       "invalid_amount", 400},
      {"/transferMoney", R"({"from_user_id":")" + a + R"(","to_user_id":"x","amount":"1.00"})",
       "invalid_user_id", 400},
  };
  for (const auto& c : cases) {
    auto r = client_.post(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << " -> " << r.body;
    EXPECT_EQ(r.error_code(), c.code) << c.body;
    EXPECT_TRUE(r.json()["error"]["message"].is_string()) << r.body;
  }
  EXPECT_EQ(
      count_rows(db_, "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])", ids_),
      0);
}

TEST_F(TransactionApiTest, TransferAcceptsTheAmountAliasAndReportsThePayerBalance) {
  ASSERT_EQ(add(R"({"user_id":")" + ids_[0] + R"(","amount":"10.00"})").status, 200);
  auto r = client_.post("/transferMoney", R"({"from_user_id":")" + ids_[0] + R"(","to_user_id":")" +
                                              ids_[1] + R"(","amount":"2.50"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json();
  EXPECT_EQ(body["amount"], "2.50");
  EXPECT_EQ(body["from_balance"], "7.50");
  EXPECT_EQ(body["from_user_id"], ids_[0]);
  EXPECT_EQ(body["to_user_id"], ids_[1]);
  auto history = client_.get("/users/" + ids_[1] + "/transactions?limit=10").json();
  ASSERT_EQ(history["transactions"].size(), 1u);
  auto row = history["transactions"][0];
  EXPECT_EQ(row["kind"], "transfer_credit");
  EXPECT_EQ(row["balance_change"], "2.50");
  EXPECT_EQ(row["old_balance"], "0.00");
  EXPECT_EQ(row["new_balance"], "2.50");
  EXPECT_EQ(row["transfer_id"], body["transfer_id"]);
  auto payer = client_.get("/users/" + ids_[0] + "/transactions").json()["transactions"];
  ASSERT_EQ(payer.size(), 2u);
  EXPECT_EQ(payer[0]["kind"], "transfer_debit");  // newest first
  EXPECT_EQ(payer[1]["kind"], "deposit");
}

TEST_F(TransactionApiTest, PathQueryMethodAndBodyErrors) {
  EXPECT_EQ(client_.get("/users/not-a-uuid/balance").error_code(), "invalid_user_id");
  EXPECT_EQ(client_.get("/users/" + domain::new_uuid_v4() + "/balance").status, 404);
  EXPECT_EQ(client_.get("/users/" + domain::new_uuid_v4() + "/transactions").error_code(),
            "user_not_found");
  EXPECT_EQ(client_.get("/users/" + ids_[0] + "/transactions?limit=0").error_code(),
            "invalid_limit");
  EXPECT_EQ(client_.get("/users/" + ids_[0] + "/transactions?limit=abc").status, 400);
  auto unknown = client_.get("/nowhere");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "not_found");
  EXPECT_EQ(client_.get("/addMoney").status, 405);
  auto big = client_.post("/addMoney", std::string(70 * 1024, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.error_code(), "payload_too_large");
  auto form = client_.post("/addMoney", "user_id=1", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(form.status, 415);
  EXPECT_FALSE(client_.get("/healthz").headers["x-request-id"].empty());
}

TEST_F(TransactionApiTest, AdminApiNeedsTheTokenAndShowsLiveActors) {
  EXPECT_EQ(client_.get("/admin/actors").status, 401);
  EXPECT_EQ(client_.get("/admin/actors", {{"Authorization", "Bearer wrong"}}).error_code(),
            "unauthorized");
  ASSERT_EQ(add(R"({"user_id":")" + ids_[0] + R"(","amount":"3.00"})").status, 200);
  const HttpHeaders auth{{"Authorization", "Bearer " + admin_token()}};
  auto all = client_.get("/admin/actors", auth);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_GE(all.json()["totals"]["live"].get<int>(), 1);
  auto one = client_.get("/admin/actors/" + ids_[0], auth);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["balance"], "3.00");
  EXPECT_GE(one.json()["messages_handled"].get<int>(), 1);
  auto bridges = client_.get("/admin/bridges", auth);
  EXPECT_EQ(bridges.status, 200);
  EXPECT_TRUE(bridges.json().contains("ledger_writer"));
}

}  // namespace
}  // namespace wallet::test
