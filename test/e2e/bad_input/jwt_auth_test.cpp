// Optional JWT authentication of transaction-service (AUTH_JWT_SECRET set), end to end against an
// instance of its own: addMoney needs a token with "role": "operator", transferMoney one whose
// "sub" is from_user_id; missing, forged, expired or wrongly signed tokens are 401, valid tokens
// for someone else 403, and a refused request never reaches the ledger (not even as a replay).
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "domain/ids.hpp"
#include "http/jwt.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

const std::string kSecret = "e2e-" + domain::new_uuid_v4() + domain::new_uuid_v4();
constexpr char kHs256[] = R"({"alg":"HS256","typ":"JWT"})";

long now_seconds() {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

std::string token(nlohmann::json claims, const std::string& header = kHs256,
                  const std::string& secret = kSecret) {
  if (!claims.contains("exp")) claims["exp"] = now_seconds() + 300;
  return http::sign_hs256(header, claims.dump(), secret);
}

HttpHeaders bearer(const std::string& jwt) { return {{"Authorization", "Bearer " + jwt}}; }

class JwtAuthTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const int port = free_port();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    service_ = new ServiceProcess(
        bin_dir() + "/transaction-service",
        private_transaction_service_env(port, "jwt", {{"AUTH_JWT_SECRET", kSecret}}),
        "transaction-service-jwt");
    service_->start();
    ready_ = service_->wait_ready(url_, 60s);
  }
  static void TearDownTestSuite() {
    if (service_) service_->terminate(20s);
    delete service_;
    service_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(ready_) << "see " << service_->log_path();
    ids_ = create_accounts(db_, 2);
  }

  std::string deposit(const std::string& user, const std::string& amount) const {
    return nlohmann::json{{"user_id", user}, {"amount", amount}}.dump();
  }
  std::string transfer(const std::string& amount) const {
    return nlohmann::json{
        {"from_user_id", ids_[0]}, {"to_user_id", ids_[1]}, {"amount_to_transfer", amount}}
        .dump();
  }
  std::string operator_token() const { return token({{"sub", "ops"}, {"role", "operator"}}); }
  void fund(const std::string& amount) {
    const auto funded =
        HttpClient(url_).post("/addMoney", deposit(ids_[0], amount), bearer(operator_token()));
    ASSERT_EQ(funded.status, 200) << funded.body;
  }

  static std::string url_;
  static ServiceProcess* service_;
  static bool ready_;
  pqxx::connection db_{transaction_db_url()};
  std::vector<std::string> ids_;
};

std::string JwtAuthTest::url_;
ServiceProcess* JwtAuthTest::service_ = nullptr;
bool JwtAuthTest::ready_ = false;

TEST_F(JwtAuthTest, AddMoneyRejectsMissingAndInvalidTokensWith401) {
  HttpClient client(url_);
  const std::string body = deposit(ids_[0], "10.00");
  const std::string none_header = R"({"alg":"none","typ":"JWT"})";
  const std::string unsigned_none = http::base64url_encode(none_header) + "." +
                                    http::base64url_encode(R"({"role":"operator"})") + ".";
  const struct {
    const char* name;
    HttpHeaders headers;
  } cases[] = {
      {"no Authorization", {}},
      {"Basic scheme", {{"Authorization", "Basic b3BzOm9wcw=="}}},
      {"empty bearer", {{"Authorization", "Bearer "}}},
      {"garbage", bearer("not.a.jwt")},
      {"alg none, unsigned", bearer(unsigned_none)},
      {"alg none, signed", bearer(token({{"role", "operator"}}, none_header))},
      {"alg HS512", bearer(token({{"role", "operator"}}, R"({"alg":"HS512"})"))},
      {"other secret", bearer(token({{"role", "operator"}}, kHs256, "another-secret"))},
      {"expired", bearer(token({{"role", "operator"}, {"exp", now_seconds() - 10}}))},
      {"not yet valid", bearer(token({{"role", "operator"}, {"nbf", now_seconds() + 600}}))},
      {"two segments", bearer(operator_token().substr(0, operator_token().rfind('.')))},
  };
  for (const auto& c : cases) {
    auto response = client.post("/addMoney", body, c.headers);
    EXPECT_EQ(response.status, 401) << c.name << ": " << response.body;
    EXPECT_EQ(response.error_code(), "unauthorized") << c.name;
    EXPECT_EQ(response.headers["www-authenticate"].rfind("Bearer", 0), 0u) << c.name;
  }
  EXPECT_EQ(db_balance(db_, ids_[0]), "0.00");
}

TEST_F(JwtAuthTest, AddMoneyNeedsTheOperatorRole) {
  HttpClient client(url_);
  const auto user =
      client.post("/addMoney", deposit(ids_[0], "10.00"), bearer(token({{"sub", ids_[0]}})));
  EXPECT_EQ(user.status, 403) << user.body;
  EXPECT_EQ(user.error_code(), "forbidden");
  const auto wrong_role = client.post("/addMoney", deposit(ids_[0], "10.00"),
                                      bearer(token({{"sub", "x"}, {"role", "Operator"}})));
  EXPECT_EQ(wrong_role.status, 403);
  EXPECT_EQ(db_balance(db_, ids_[0]), "0.00");

  const auto ok = client.post("/addMoney", deposit(ids_[0], "10.00"), bearer(operator_token()));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(db_balance(db_, ids_[0]), "10.00");
}

TEST_F(JwtAuthTest, TransferNeedsATokenForTheSourceAccount) {
  fund("100.00");
  HttpClient client(url_);
  const auto missing = client.post("/transferMoney", transfer("1.00"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.error_code(), "unauthorized");
  const auto expired = client.post("/transferMoney", transfer("1.00"),
                                   bearer(token({{"sub", ids_[0]}, {"exp", now_seconds() - 1}})));
  EXPECT_EQ(expired.status, 401);
  const auto other =
      client.post("/transferMoney", transfer("1.00"), bearer(token({{"sub", ids_[1]}})));
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(other.error_code(), "forbidden");
  const auto operator_only =
      client.post("/transferMoney", transfer("1.00"), bearer(operator_token()));
  EXPECT_EQ(operator_only.status, 403);
  EXPECT_EQ(db_balance(db_, ids_[0]), "100.00");

  const auto own =
      client.post("/transferMoney", transfer("30.00"), bearer(token({{"sub", ids_[0]}})));
  EXPECT_EQ(own.status, 200) << own.body;
  std::string upper = ids_[0];
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto upper_sub =
      client.post("/transferMoney", transfer("5.00"), bearer(token({{"sub", upper}})));
  EXPECT_EQ(upper_sub.status, 200) << upper_sub.body;
  EXPECT_EQ(db_balance(db_, ids_[0]), "65.00");
  EXPECT_EQ(db_balance(db_, ids_[1]), "35.00");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

// A bulk's operations are authorized one by one with the bulk's token, as if each were sent alone.
TEST_F(JwtAuthTest, EachOperationOfABulkIsAuthorizedAsItsOwnRequest) {
  fund("10.00");
  HttpClient client(url_);
  auto op = [](const char* action, const std::string& data) {
    return nlohmann::json{{"action", action},
                          {"idempotency_key", domain::new_uuid_v4()},
                          {"data", nlohmann::json::parse(data)}};
  };
  const std::string bulk =
      nlohmann::json{{"operations",
                      {op("deposit", deposit(ids_[0], "5.00")), op("transfer", transfer("1.00"))}}}
          .dump();
  const auto none = client.post("/transactions/bulk", bulk);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(none.json()["results"][0]["status"], 401) << none.body;
  EXPECT_EQ(none.json()["results"][1]["status"], 401) << none.body;
  const auto payer = client.post("/transactions/bulk", bulk, bearer(token({{"sub", ids_[0]}})));
  ASSERT_EQ(payer.status, 200) << payer.body;
  EXPECT_EQ(payer.json()["results"][0]["status"], 403) << payer.body;  // not an operator
  EXPECT_EQ(payer.json()["results"][1]["status"], 200) << payer.body;
  EXPECT_EQ(db_balance(db_, ids_[0]), "9.00");
  EXPECT_EQ(db_balance(db_, ids_[1]), "1.00");
}

// An idempotent replay is answered from the stored first response: it must not let another user
// read that response (or a bad token through) because authorization runs first.
TEST_F(JwtAuthTest, ReplaysAreAuthorizedLikeFirstRequests) {
  fund("50.00");
  HttpClient client(url_);
  const HttpHeaders key = {{"Idempotency-Key", "jwt-" + domain::new_uuid_v4()}};
  auto with = [&](const std::string& jwt) {
    HttpHeaders headers = key;
    headers.emplace_back("Authorization", "Bearer " + jwt);
    return headers;
  };
  const auto first =
      client.post("/transferMoney", transfer("20.00"), with(token({{"sub", ids_[0]}})));
  ASSERT_EQ(first.status, 200) << first.body;
  const auto stranger =
      client.post("/transferMoney", transfer("20.00"), with(token({{"sub", ids_[1]}})));
  EXPECT_EQ(stranger.status, 403);
  EXPECT_EQ(stranger.body.find("transfer_id"), std::string::npos);
  const auto anonymous = client.post("/transferMoney", transfer("20.00"), key);
  EXPECT_EQ(anonymous.status, 401);
  auto replay = client.post("/transferMoney", transfer("20.00"), with(token({{"sub", ids_[0]}})));
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.headers["idempotent-replayed"], "true");
  EXPECT_EQ(db_balance(db_, ids_[0]), "30.00");
}

TEST_F(JwtAuthTest, ReadsNeedNoToken) {
  EXPECT_EQ(HttpClient(url_).get("/users/" + ids_[0] + "/balance").status, 200);
  EXPECT_EQ(HttpClient(url_).get("/healthz").status, 200);
}

}  // namespace
}  // namespace wallet::test
