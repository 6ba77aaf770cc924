// Broker outages with both services running: users created while Kafka is down all get their
// account once it is back (from the outbox, exactly once, nothing left pending), and while NATS is
// down getBalance fails fast with 503/504 and works again after NATS returns, without restarts.
#include <atomic>
#include <mutex>
#include <pqxx/pqxx>
#include <vector>

#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/eventually.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

long count_where(const std::string& url, const std::string& sql,
                 const std::vector<std::string>& ids) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  return txn.exec_params(sql, uuid_array(ids))[0][0].as<long>();
}

TEST(KafkaOutageTest, UsersCreatedWhileKafkaIsDownAllGetTheirAccountOnceItIsBack) {
  constexpr int kUsers = 200;
  HttpClient users(user_service_url());
  StackOutage outage("kafka");
  ASSERT_TRUE(outage.down()) << "scripts/down kafka failed";
  const auto went_down = std::chrono::steady_clock::now();

  std::vector<std::string> ids;
  std::mutex mutex;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < kUsers) {
        auto created = create_user(users, unique_email("kafka-down"));
        if (created.status != 201) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        ids.push_back(created.json()["user_id"]);
      }
    });
  }
  for (auto& w : workers) w.join();
  ASSERT_EQ(failures.load(), 0) << "createUser must not depend on Kafka";
  ASSERT_EQ(ids.size(), static_cast<size_t>(kUsers));
  EXPECT_EQ(count_where(user_db_url(),
                        "SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::uuid[])"
                        " AND sent_at IS NULL",
                        ids),
            kUsers)
      << "with Kafka down every event waits in the outbox";
  // Long enough for the relay's first deliveries to time out (message.timeout.ms 10 s), so that
  // what comes back is its retry path, not merely a slow first attempt.
  std::this_thread::sleep_until(went_down + 15s);
  auto ready = users.get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("kafka"), std::string::npos) << ready.body;

  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(outage.restore()) << "scripts/up kafka failed";
  const auto accounts = [&] {
    return count_where(transaction_db_url(),
                       "SELECT count(*) FROM users WHERE user_id = ANY($1::uuid[])", ids);
  };
  EXPECT_TRUE(eventually([&] { return accounts() == kUsers; }, 90s))
      << accounts() << " of " << kUsers << " accounts after 90 s";
  std::printf("kafka outage: %d accounts present %.1f s after scripts/up kafka was called\n",
              static_cast<int>(accounts()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count());
  // Never twice: one row per user, and no deposit or other ledger row appeared for them.
  EXPECT_EQ(count_where(transaction_db_url(),
                        "SELECT count(*) - count(DISTINCT user_id) FROM users"
                        " WHERE user_id = ANY($1::uuid[])",
                        ids),
            0);
  EXPECT_EQ(count_where(
                transaction_db_url(),
                "SELECT count(*) FROM users WHERE user_id = ANY($1::uuid[]) AND balance <> 0", ids),
            0);
  EXPECT_TRUE(eventually(
      [&] {
        return count_where(user_db_url(),
                           "SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::uuid[])"
                           " AND sent_at IS NULL",
                           ids) == 0;
      },
      30s))
      << "outbox rows left pending after the backlog was delivered";
  EXPECT_TRUE(eventually([&] { return users.get("/readyz").status == 200; }, 30s));
}

TEST(NatsOutageTest, GetBalanceFailsFastWhileNatsIsDownAndRecoversWithoutRestarts) {
  const auto timeout =
      std::chrono::milliseconds(std::stol(env_or("NATS_REQUEST_TIMEOUT_MS", "2000")));
  HttpClient users(user_service_url());
  HttpClient ledger(transaction_service_url());
  auto created = create_user(users, unique_email("nats-down"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string email = created.json()["email"];
  ASSERT_TRUE(wait_for_account(ledger, created.json()["user_id"], 10s));
  ASSERT_EQ(get_balance(users, email).status, 200);

  StackOutage outage("nats");
  ASSERT_TRUE(outage.down()) << "scripts/down nats failed";
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto answer = get_balance(users, email);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(answer.status == 503 || answer.status == 504)
        << answer.status << " " << answer.body;
    EXPECT_TRUE(answer.error_code() == "unavailable" || answer.error_code() == "upstream_timeout")
        << answer.body;
    EXPECT_LE(took, timeout + 1s);
  }

  ASSERT_TRUE(outage.restore()) << "scripts/up nats failed";
  EXPECT_TRUE(eventually([&] { return get_balance(users, email).status == 200; }, 30s))
      << "getBalance did not recover after NATS came back";
  auto answer = get_balance(users, email);
  EXPECT_EQ(answer.json()["balance"], "0.00");
}

}  // namespace
}  // namespace wallet::test
