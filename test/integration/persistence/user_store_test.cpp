// user-service persistence against the real Postgres: a Postgres round trip, the user + outbox row
// written in one transaction, duplicate and concurrent creates of one email, the outbox queries the
// relay relies on, and the one-relay-leads lock. Runs in a scratch schema of user_service.
#include "persistence/user_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "messaging/user_created_event.hpp"
#include "test/support/environment.hpp"
#include "test/support/new_user.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

std::string unique_email() { return "it-" + domain::new_uuid_v4() + "@example.com"; }

class UserStoreTest : public ::testing::Test {
 protected:
  long count(const std::string& sql) {
    pqxx::nontransaction txn(conn_);
    return txn.exec(sql)[0][0].as<long>();
  }

  ScratchSchema schema_{user_db_url(), "user_service"};
  pqxx::connection conn_{schema_.url()};
};

TEST(PostgresTest, RoundTripThroughATemporaryTable) {
  pqxx::connection conn(user_db_url());
  pqxx::work txn(conn);
  txn.exec("CREATE TEMP TABLE round_trip (id int PRIMARY KEY, amount numeric(20,2))");
  txn.exec_params("INSERT INTO round_trip VALUES ($1, $2)", 1, "1234.50");
  auto row = txn.exec("SELECT id, amount::text FROM round_trip")[0];
  EXPECT_EQ(row[0].as<int>(), 1);
  EXPECT_EQ(row[1].as<std::string>(), "1234.50");
}

TEST_F(UserStoreTest, CreateWritesTheUserAndItsEventInOneTransaction) {
  const auto email = unique_email();
  auto user = persistence::create_user(conn_, new_user(email, "user-created"));
  ASSERT_TRUE(user);
  EXPECT_TRUE(domain::is_uuid(user->user_id));
  EXPECT_EQ(user->email, email);
  EXPECT_TRUE(messaging::is_rfc3339_timestamp(user->created_at)) << user->created_at;

  auto rows = persistence::pending_outbox(conn_, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].aggregate_id, user->user_id);
  EXPECT_EQ(rows[0].topic, "user-created");
  auto payload = nlohmann::json::parse(rows[0].payload);
  EXPECT_EQ(payload["user_id"], user->user_id);
  EXPECT_EQ(payload["email"], email);
  EXPECT_EQ(payload["created_at"], user->created_at);
  EXPECT_TRUE(domain::is_uuid(payload["event_id"].get<std::string>()));
  EXPECT_EQ(payload.size(), 4u);
}

TEST_F(UserStoreTest, DuplicateEmailCreatesNeitherUserNorEvent) {
  const auto email = unique_email();
  ASSERT_TRUE(persistence::create_user(conn_, new_user(email, "user-created")));
  EXPECT_FALSE(persistence::create_user(conn_, new_user(email, "user-created")));
  EXPECT_EQ(count("SELECT count(*) FROM users"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 1);
}

TEST_F(UserStoreTest, ConcurrentCreatesOfOneEmailGiveExactlyOneUser) {
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const auto email = unique_email();
    std::atomic<int> created{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        pqxx::connection conn(schema_.url());
        if (persistence::create_user(conn, new_user(email, "user-created"))) ++created;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(created.load(), 1) << email;
  }
  EXPECT_EQ(count("SELECT count(*) FROM users"), kRounds);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), kRounds);
}

TEST_F(UserStoreTest, FindsUsersByEmailAndById) {
  const auto email = unique_email();
  auto user = persistence::create_user(conn_, new_user(email, "user-created"));
  ASSERT_TRUE(user);
  auto by_email = persistence::find_user_by_email(conn_, email);
  ASSERT_TRUE(by_email);
  EXPECT_EQ(by_email->user_id, user->user_id);
  EXPECT_EQ(by_email->created_at, user->created_at);
  auto by_id = persistence::find_user_by_id(conn_, user->user_id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->email, email);
  EXPECT_FALSE(persistence::find_user_by_email(conn_, unique_email()));
  EXPECT_FALSE(persistence::find_user_by_id(conn_, domain::new_uuid_v4()));
}

TEST_F(UserStoreTest, OutboxServesPendingRowsInOrderUntilMarkedSent) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(persistence::create_user(conn_, new_user(unique_email(), "t")));
  auto rows = persistence::pending_outbox(conn_, 3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_LT(rows[0].id, rows[1].id);
  EXPECT_LT(rows[1].id, rows[2].id);
  EXPECT_EQ(persistence::count_pending_outbox(conn_), 5);

  persistence::mark_outbox_sent(conn_, {rows[0].id, rows[2].id});
  persistence::count_outbox_attempts(conn_, {rows[1].id});
  EXPECT_EQ(persistence::count_pending_outbox(conn_), 3);
  auto left = persistence::pending_outbox(conn_, 10);
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].id, rows[1].id);  // the first unsent row leads again
  EXPECT_EQ(count("SELECT attempts FROM outbox WHERE id = " + std::to_string(rows[1].id)), 1);
}

TEST_F(UserStoreTest, OnlyOneRelayLeadsAnOutbox) {
  auto first = std::make_unique<pqxx::connection>(schema_.url());
  pqxx::connection second(schema_.url());
  EXPECT_TRUE(persistence::try_lead_outbox(*first));
  EXPECT_FALSE(persistence::try_lead_outbox(second));
  first.reset();  // the leader's session ends: its lock goes with it (once the backend exits)
  bool took_over = false;
  for (int i = 0; i < 50 && !took_over; ++i) {
    took_over = persistence::try_lead_outbox(second);
    if (!took_over) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(took_over);
}

}  // namespace
}  // namespace wallet::test
