// Per-client rate limits (SPEC.md section 9) end to end, against a transaction-service of the
// test's own started with RATE_LIMITS: one client at its limit leaves another unaffected, a limited
// request changes nothing in Postgres (no money, no idempotency outcome), and a keyed request
// retried after its Retry-After is handled as the first send (executed, not a replay).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <string>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

class RateLimitsTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const int port = free_port();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    // Money: a burst of 2, then 1 a second. Reads are limited loosely (the readiness wait and the
    // probes are exempt anyway); admin stays unlimited.
    service_ = new ServiceProcess(
        bin_dir() + "/transaction-service",
        private_transaction_service_env(
            port, "ratelimit",
            {{"RATE_LIMITS", "money=1/2,reads=100/100"}, {"LEDGER_EVENTS", "off"}}),
        "transaction-service-ratelimit");
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

  // A deposit of `amount` to the first account, sent as client `api_key`.
  HttpResponse deposit(const std::string& api_key, const std::string& amount,
                       const std::string& idempotency_key = "") const {
    HttpHeaders headers{{"X-Api-Key", api_key}};
    if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
    return HttpClient(url_).post(
        "/addMoney", nlohmann::json{{"user_id", ids_[0]}, {"amount", amount}}.dump(), headers);
  }
  long outcomes_stored(const std::string& idempotency_key) {
    pqxx::work read(db_);
    return read
        .exec_params1("SELECT count(*) FROM idempotency_keys WHERE key = $1", idempotency_key)[0]
        .as<long>();
  }
  static std::string client() { return "client-" + domain::new_uuid_v4(); }
  // Deposits 1.00 as `api_key` until one is refused (a burst of 2 is spent in a few milliseconds;
  // a slow machine may refill a token on the way); returns the refusal, counts the deposits made.
  HttpResponse spend_burst(const std::string& api_key, int& made) const {
    for (made = 0; made < 10; ++made) {
      auto response = deposit(api_key, "1.00");
      if (response.status != 200) return response;
    }
    return {};
  }
  static std::string amount(int whole) { return std::to_string(whole) + ".00"; }

  static std::string url_;
  static ServiceProcess* service_;
  static bool ready_;
  pqxx::connection db_{transaction_db_url()};
  std::vector<std::string> ids_;
};

std::string RateLimitsTest::url_;
ServiceProcess* RateLimitsTest::service_ = nullptr;
bool RateLimitsTest::ready_ = false;

TEST_F(RateLimitsTest, OneClientAtItsLimitLeavesAnotherUnaffected) {
  const std::string noisy = client();
  const std::string quiet = client();
  int made = 0;
  auto refused = spend_burst(noisy, made);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_GE(made, 2);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_EQ(refused.headers["ratelimit-policy"], R"("money";q=1;w=1)");
  EXPECT_TRUE(std::regex_match(refused.headers["ratelimit"], std::regex(R"("money";r=0;t=[12])")))
      << refused.headers["ratelimit"];

  auto other = deposit(quiet, "10.00");
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.headers["ratelimit-policy"], R"("money";q=1;w=1)");
  EXPECT_TRUE(std::regex_match(other.headers["ratelimit"], std::regex(R"("money";r=1;t=1)")))
      << other.headers["ratelimit"];
  // Reads are a class of their own: the noisy client still reads its balance.
  auto balance = HttpClient(url_).get("/users/" + ids_[0] + "/balance", {{"X-Api-Key", noisy}});
  EXPECT_EQ(balance.status, 200) << balance.body;
  EXPECT_EQ(balance.headers["ratelimit-policy"], R"("reads";q=100;w=1)");
  EXPECT_EQ(db_balance(db_, ids_[0]), amount(made + 10));  // the refused deposit is not there
}

TEST_F(RateLimitsTest, ALimitedKeyedRequestChangesNothingAndItsRetryIsTheFirstSend) {
  const std::string me = client();
  int made = 0;
  ASSERT_EQ(spend_burst(me, made).status, 429);
  const std::string key = "rl-" + domain::new_uuid_v4();
  auto refused = deposit(me, "5.00", key);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(db_balance(db_, ids_[0]), amount(made));
  EXPECT_EQ(outcomes_stored(key), 0);

  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(refused.headers["retry-after"])));
  const auto first = deposit(me, "5.00", key);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers.count("idempotent-replayed"), 0u) << "executed, not replayed";
  EXPECT_EQ(db_balance(db_, ids_[0]), amount(made + 5));
  EXPECT_EQ(outcomes_stored(key), 1);

  // The key now holds that outcome: the next send with it (after another wait) is its replay.
  std::this_thread::sleep_for(1s);
  auto again = deposit(me, "5.00", key);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(db_balance(db_, ids_[0]), amount(made + 5));
}

// The control: the same burst against the stack's instance, which runs without RATE_LIMITS, is
// never refused and carries no RateLimit header.
TEST_F(RateLimitsTest, AnInstanceWithoutRateLimitsRefusesNothing) {
  HttpClient stack(transaction_service_url());
  const HttpHeaders headers{{"X-Api-Key", client()}};
  for (int i = 0; i < 5; ++i) {
    const auto response = stack.post(
        "/addMoney", nlohmann::json{{"user_id", ids_[1]}, {"amount", "1.00"}}.dump(), headers);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.headers.count("ratelimit"), 0u);
  }
  EXPECT_EQ(db_balance(db_, ids_[1]), "5.00");
}

}  // namespace
}  // namespace wallet::test
