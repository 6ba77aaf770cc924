// Outages under load: Postgres, Kafka and NATS are stopped and started again (through
// scripts/down and scripts/up, on the stack that scripts/test runs) while clients transfer money.
// While Postgres is down the ledger answers 503 promptly and /readyz names it; afterwards the
// service recovers by itself and every keyed transfer settles exactly once. Kafka and NATS outages
// do not stop the ledger, and /readyz follows each of them.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"
#include "test/support/stack_control.hpp"
#include "test/support/transfer_load.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

void stack(const std::string& verb, const std::string& part) {
  ASSERT_TRUE(stack_command(verb, part)) << verb << " " << part;
}

// Polls /readyz until its answer satisfies `want`; returns the last answer.
template <class Predicate>
HttpResponse wait_readiness(const HttpClient& client, std::chrono::seconds limit, Predicate want) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  HttpResponse last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = client.get("/readyz");
    if (want(last)) return last;
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

class OutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.start();
    ASSERT_TRUE(service_.wait_ready(url_, 60s)) << service_.log_path();
    ids_ = create_accounts(db(), 10);
    HttpClient client(url_);
    for (const auto& id : ids_) {
      auto r =
          client.post("/addMoney", nlohmann::json{{"user_id", id}, {"amount", "300.00"}}.dump());
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  void TearDown() override {
    // Leave the stack as the other tests expect it, whatever happened here.
    for (const char* part : {"postgres", "kafka", "nats"}) stack_command("up", part);
    // And leave only once the stack's own services see every part again.
    for (const auto& url : {user_service_url(), transaction_service_url()}) {
      wait_readiness(HttpClient(url), 60s, [](const HttpResponse& r) { return r.status == 200; });
    }
  }

  pqxx::connection& db() {
    if (!db_ || !db_->is_open()) db_ = std::make_unique<pqxx::connection>(transaction_db_url());
    return *db_;
  }

  // `extra` transfers were made outside the load (and acknowledged).
  void expect_all_settled_once(const std::vector<KeyedTransfer>& results, long extra = 0) {
    long acknowledged = extra;
    for (const auto& t : results) {
      ASSERT_TRUE(t.final_status == 200 || t.final_status == 409) << t.key;
      if (t.final_status == 200) ++acknowledged;
    }
    EXPECT_EQ(count_rows(db(),
                         "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                         " AND kind = 'transfer_debit'",
                         ids_),
              acknowledged);
    for (const auto& violation : ledger_violations(db(), ids_)) ADD_FAILURE() << violation;
  }

  const int port_ = free_port();
  const std::string url_ = "http://127.0.0.1:" + std::to_string(port_);
  ServiceProcess service_{bin_dir() + "/transaction-service",
                          private_transaction_service_env(port_, "outage"),
                          "transaction-service-outage"};
  std::unique_ptr<pqxx::connection> db_;
  std::vector<std::string> ids_;
};

TEST_F(OutageTest, PostgresRestartUnderLoadAnswers503ThenRecoversAndLosesNothing) {
  TransferLoad load({url_, ids_, 8, 150, 50ms, 5s});
  load.start();
  std::this_thread::sleep_for(500ms);
  stack("down", "postgres");
  db_.reset();

  HttpClient client(url_, 15s);
  auto not_ready =
      wait_readiness(client, 15s, [](const HttpResponse& r) { return r.status == 503; });
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("postgres"), std::string::npos) << not_ready.body;
  // A transfer while the database is down is refused promptly, not left hanging.
  auto refused = client.post(
      "/transferMoney",
      nlohmann::json{
          {"from_user_id", ids_[0]}, {"to_user_id", ids_[1]}, {"amount_to_transfer", "1.00"}}
          .dump(),
      {{"Idempotency-Key", domain::new_uuid_v4()}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_LT(refused.seconds, 10.0);
  EXPECT_EQ(refused.error_code(), "unavailable");

  stack("up", "postgres");
  auto ready = wait_readiness(client, 60s, [](const HttpResponse& r) { return r.status == 200; });
  EXPECT_EQ(ready.status, 200) << ready.body;
  ASSERT_TRUE(load.wait(120s)) << "transfers did not settle after Postgres came back";
  auto results = load.results();
  int refused_while_down = 0;
  for (const auto& t : results)
    refused_while_down += t.statuses.count(503) ? t.statuses.at(503) : 0;
  std::printf(
      "[outage] postgres: %zu keyed transfers settled; %d answers were 503 while it was down\n",
      results.size(), refused_while_down);
  expect_all_settled_once(results);
}

TEST_F(OutageTest, KafkaAndNatsOutagesDoNotStopTheLedgerAndReadinessFollows) {
  TransferLoad load({url_, ids_, 6, 150, 50ms, 5s});
  load.start();
  HttpClient client(url_, 10s);
  long outside_load = 0;
  for (const std::string part : {"kafka", "nats"}) {
    stack("down", part);
    auto down = wait_readiness(client, 30s, [](const HttpResponse& r) { return r.status == 503; });
    EXPECT_EQ(down.status, 503) << part;
    EXPECT_NE(down.body.find(part), std::string::npos) << down.body;
    // Money keeps moving: the ledger needs only Postgres.
    auto moved = client.post("/transferMoney", nlohmann::json{{"from_user_id", ids_[2]},
                                                              {"to_user_id", ids_[3]},
                                                              {"amount_to_transfer", "0.01"}}
                                                   .dump());
    EXPECT_EQ(moved.status, 200) << part << " " << moved.body;
    if (moved.status == 200) ++outside_load;
    stack("up", part);
    auto up = wait_readiness(client, 90s, [](const HttpResponse& r) { return r.status == 200; });
    EXPECT_EQ(up.status, 200) << part << " " << up.body;
  }
  ASSERT_TRUE(load.wait(120s));
  expect_all_settled_once(load.results(), outside_load);
}

}  // namespace
}  // namespace wallet::test
