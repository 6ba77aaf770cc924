// Release 2: holds live in their payer's account actor and in Postgres. They survive the actor's
// retirement (reloaded with the account) and a SIGKILL of the service (reloaded at the next use),
// and one whose actor is not loaded still expires by itself within a second (the sweeper).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "test/support/environment.hpp"
#include "test/support/eventually.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

TEST(HoldsRestartTest, HoldsSurviveRetirementAndAKillAndStillExpireOnTime) {
  pqxx::connection db(transaction_db_url());
  auto ids = create_accounts(db, 2);
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  // Actors retire after 300 ms idle, so the holds must come back from Postgres.
  ServiceProcess service(bin_dir() + "/transaction-service",
                         private_transaction_service_env(port, "holds", {{"ACTOR_IDLE_MS", "300"}}),
                         "transaction-service-holds");
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();
  HttpClient client(url);
  auto available = [&] {
    return client.get("/users/" + ids[0] + "/balance").json().value("available_balance", "");
  };
  const HttpHeaders admin{{"Authorization", "Bearer test"}};

  ASSERT_EQ(client.post("/addMoney", R"({"user_id":")" + ids[0] + R"(","amount":"100.00"})").status,
            200);
  auto hold = [&](const char* amount, int timeout) {
    auto r = client.post("/holds", R"({"from_user_id":")" + ids[0] + R"(","to_user_id":")" +
                                       ids[1] + R"(","amount":")" + amount +
                                       R"(","timeout_seconds":)" + std::to_string(timeout) + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("hold_id", "");
  };
  const std::string short_hold = hold("40.00", 15);
  const std::string long_hold = hold("10.00", 600);
  EXPECT_EQ(available(), "50.00");

  // Retired: the actor is gone, and a new one reloads both holds.
  ASSERT_TRUE(
      eventually([&] { return client.get("/admin/actors/" + ids[0], admin).status == 404; }, 10s))
      << "the idle actor was not retired";
  EXPECT_EQ(available(), "50.00");
  auto refused =
      client.post("/withdrawMoney", R"({"user_id":")" + ids[0] + R"(","amount":"50.01"})");
  EXPECT_EQ(refused.error_code(), "insufficient_funds") << refused.body;

  // Killed: a new process knows nothing until it loads the account from Postgres.
  service.kill_now();
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();
  EXPECT_EQ(client.get("/holds/" + short_hold).json().value("status", ""), "pending");
  // The short hold expires while no actor of its payer is loaded: the sweeper closes it.
  ASSERT_TRUE(eventually(
      [&] { return client.get("/holds/" + short_hold).json().value("status", "") == "expired"; },
      25s));
  {
    pqxx::nontransaction txn(db);
    const double late = txn.exec_params(
                               "SELECT extract(epoch FROM closed_at - expires_at) FROM holds"
                               " WHERE hold_id = $1",
                               short_hold)[0][0]
                            .as<double>();
    EXPECT_GE(late, 0.0);
    EXPECT_LT(late, 1.0) << "expired " << late << " s after expires_at";
  }
  EXPECT_EQ(available(), "90.00");
  auto captured = client.post("/holds/" + long_hold + "/capture", "{}");
  ASSERT_EQ(captured.status, 200) << captured.body;
  EXPECT_EQ(captured.json()["from_balance"], "90.00");
  EXPECT_EQ(db_balance(db, ids[1]), "10.00");
  EXPECT_TRUE(ledger_violations(db, ids).empty());
  EXPECT_EQ(service.terminate(20s), 0);
}

}  // namespace
}  // namespace wallet::test
