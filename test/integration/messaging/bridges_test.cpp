// The Kafka bridges against the real Kafka and Postgres, each on topics and a scratch schema of its
// own so the running services are not disturbed: the outbox relay publishes pending rows in order
// and marks exactly the delivered ones; the user-created consumer opens accounts once, dead-letters
// poison without blocking its partition, and waits out a database outage without skipping events.
#include "messaging/bridges.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "messaging/outbox_relay.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "persistence/user_store.hpp"
#include "test/support/environment.hpp"
#include "test/support/eventually.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/new_user.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

std::string unique(const std::string& prefix) { return prefix + domain::new_uuid_v4(); }

class BridgeTest : public ::testing::Test {
 protected:
  caf::actor_system_config config_;
  caf::actor_system system_{config_};
};

class OutboxRelayTest : public BridgeTest {
 protected:
  messaging::OutboxRelayOptions options(const std::string& brokers) {
    messaging::OutboxRelayOptions o;
    o.brokers = brokers;
    o.database_url = schema_.url();
    o.batch_size = 8;  // several passes for one backlog
    o.min_backoff = 50ms;
    return o;
  }
  long pending() { return persistence::count_pending_outbox(conn_); }

  ScratchSchema schema_{user_db_url(), "user_service"};
  pqxx::connection conn_{schema_.url()};
  std::string topic_ = unique("wallet-it-outbox-");
};

TEST_F(OutboxRelayTest, PublishesPendingRowsInOrderAndMarksThemSent) {
  std::vector<persistence::OutboxRow> rows;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        persistence::create_user(conn_, new_user(unique("relay-") + "@example.com", topic_)));
  }
  rows = persistence::pending_outbox(conn_, 100);
  ASSERT_EQ(rows.size(), 20u);

  messaging::OutboxRelay relay(system_, options(kafka_brokers()));
  relay.wake();
  ASSERT_TRUE(eventually([&] { return pending() == 0; }, 30s)) << relay.status().dump();
  EXPECT_TRUE(eventually([&] { return relay.pending() == 0; }, 5s));
  EXPECT_EQ(relay.status()["counters"]["published"], 20);
  EXPECT_TRUE(eventually([&] { return relay.healthy(); }, 5s));

  // Every row arrived with its payload; within a partition in id (commit) order.
  KafkaReader reader(kafka_brokers(), topic_, KafkaReader::From::beginning);
  std::map<std::string, KafkaRecord> seen;
  reader.find(
      [&](const KafkaRecord& r) {
        seen[r.key] = r;
        return seen.size() == rows.size();
      },
      20s);
  ASSERT_EQ(seen.size(), rows.size());
  std::map<int32_t, int64_t> last_offset;
  for (const auto& row : rows) {
    const auto& record = seen.at(row.aggregate_id);
    EXPECT_EQ(nlohmann::json::parse(record.value), nlohmann::json::parse(row.payload));
    auto [it, first] = last_offset.emplace(record.partition, record.offset);
    if (!first) {
      EXPECT_GT(record.offset, it->second) << "row " << row.id << " overtook an earlier row";
      it->second = record.offset;
    }
  }
}

TEST_F(OutboxRelayTest, RowsStayPendingWhileKafkaIsUnreachable) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        persistence::create_user(conn_, new_user(unique("down-") + "@example.com", topic_)));
  }
  auto o = options("127.0.0.1:1");  // nothing listens there
  o.message_timeout_ms = 500;
  messaging::OutboxRelay relay(system_, o);
  relay.wake();
  auto min_attempts = [&] {
    pqxx::nontransaction txn(conn_);
    return txn.exec("SELECT min(attempts) FROM outbox")[0][0].as<int>();
  };
  ASSERT_TRUE(eventually([&] { return min_attempts() >= 2; }, 15s));
  EXPECT_EQ(pending(), 3);
  EXPECT_EQ(relay.pending(), 3);
  EXPECT_FALSE(relay.healthy());
  EXPECT_EQ(relay.status()["counters"]["published"], 0);
}

TEST_F(OutboxRelayTest, RowsWrittenByAnotherInstanceArePublishedAtOnceAndAStandbyTakesOver) {
  // The leader polls only every 30 s: publishing sooner proves the commit notification woke it.
  auto leader_options = options(kafka_brokers());
  leader_options.idle_poll = 30s;
  auto leader = std::make_unique<messaging::OutboxRelay>(system_, leader_options);
  ASSERT_TRUE(eventually([&] { return leader->status()["state"] == "running"; }, 10s));
  ASSERT_TRUE(
      persistence::create_user(conn_, new_user(unique("elsewhere-") + "@example.com", topic_)));
  EXPECT_TRUE(eventually([&] { return pending() == 0; }, 5s)) << leader->status().dump();

  auto standby_options = options(kafka_brokers());
  standby_options.idle_poll = 200ms;
  messaging::OutboxRelay standby(system_, standby_options);
  ASSERT_TRUE(eventually([&] { return standby.status()["state"] == "standby"; }, 10s));
  ASSERT_TRUE(persistence::create_user(conn_, new_user(unique("led-") + "@example.com", topic_)));
  EXPECT_TRUE(eventually([&] { return pending() == 0; }, 5s));
  EXPECT_EQ(standby.status()["counters"]["published"], 0);

  leader.reset();  // its session ends, and with it the lead
  ASSERT_TRUE(
      persistence::create_user(conn_, new_user(unique("took-over-") + "@example.com", topic_)));
  EXPECT_TRUE(eventually([&] { return pending() == 0; }, 10s)) << standby.status().dump();
  EXPECT_EQ(standby.status()["counters"]["published"], 1);
}

class UserCreatedConsumerTest : public BridgeTest {
 protected:
  messaging::ConsumerOptions options() {
    messaging::ConsumerOptions o;
    o.brokers = kafka_brokers();
    o.topic = topic_;
    o.dlq_topic = topic_ + ".dlq";
    o.group = unique("wallet-it-group-");
    return o;
  }
  void produce(const std::string& key, const std::string& value) {
    ASSERT_EQ(kafka_produce(kafka_brokers(), topic_, key, value, 0), "");
  }
  static std::string event(const std::string& user_id) {
    return nlohmann::json{{"user_id", user_id},
                          {"email", "c@example.com"},
                          {"created_at", "2024-05-01T12:00:00.000001Z"}}
        .dump();
  }
  // A Ledger over the scratch schema (its pool serves the reads, the backend the protocol).
  std::unique_ptr<actors::Ledger> ledger(persistence::DbPool& pool, const std::string& url) {
    auto backend = std::make_shared<persistence::PostgresLedgerBackend>(
        pool, persistence::PostgresLedgerOptions{url});
    return std::make_unique<actors::Ledger>(
        system_, std::make_shared<persistence::PostgresLedgerRecords>(pool), backend,
        actors::LedgerOptions{});
  }
  static uint64_t counter(const messaging::UserCreatedConsumer& c, const char* name) {
    return c.status()["counters"][name].get<uint64_t>();
  }
  long accounts(const std::string& url, const std::vector<std::string>& ids) {
    pqxx::connection conn(url);
    pqxx::nontransaction txn(conn);
    long found = 0;
    for (const auto& id : ids) {
      found +=
          txn.exec_params("SELECT count(*) FROM users WHERE user_id = $1 AND balance = 0", id)[0][0]
              .as<long>();
    }
    return found;
  }

  std::string topic_ = unique("wallet-it-users-");
};

TEST_F(UserCreatedConsumerTest, OpensAccountsOnceAndDeadLettersPoisonWithoutBlocking) {
  ScratchSchema schema(transaction_db_url(), "transaction_service");
  const auto first = domain::new_uuid_v4();
  const auto second = domain::new_uuid_v4();
  produce(first, event(first));
  produce("poison-key", "not json {");
  produce(first, event(first));  // redelivery of the same event
  produce(second, event(second));

  persistence::DbPool pool(schema.url(), 2, 100);
  auto ledger_ptr = ledger(pool, schema.url());
  messaging::UserCreatedConsumer consumer(system_, options(), *ledger_ptr);
  ASSERT_TRUE(eventually([&] { return counter(consumer, "processed") == 4; }, 40s))
      << consumer.status().dump();
  EXPECT_EQ(counter(consumer, "opened"), 2u);
  EXPECT_EQ(counter(consumer, "duplicates"), 1u);
  EXPECT_EQ(counter(consumer, "dead_lettered"), 1u);
  EXPECT_EQ(accounts(schema.url(), {first, second}), 2);
  // The Ledger that opened them serves them at once (the registry was told).
  for (const auto& id : {first, second}) {
    std::promise<domain::Result<int64_t>> balance;
    actors::BalanceQuery query;
    query.user_id = id;
    query.reply = [&balance](domain::Result<int64_t> answer) { balance.set_value(answer); };
    ledger_ptr->balance(std::move(query));
    auto answer = balance.get_future().get();
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer.value(), 0);
  }

  KafkaReader dlq(kafka_brokers(), topic_ + ".dlq", KafkaReader::From::beginning);
  auto poison = dlq.find([](const KafkaRecord& r) { return r.key == "poison-key"; }, 20s);
  ASSERT_TRUE(poison);
  EXPECT_EQ(poison->value, "not json {");
  EXPECT_FALSE(poison->headers["reason"].empty());
  EXPECT_EQ(poison->headers["source_topic"], topic_);
  EXPECT_EQ(poison->headers["source_offset"], "1");

  // Offsets are committed per message: the partition's committed position is past all four.
  ASSERT_TRUE(eventually(
      [&] {
        const auto status = consumer.status();
        for (const auto& p : status["partitions"]) {
          if (p["partition"] == 0) return p["committed_offset"] == 4 && p["lag"] == 0;
        }
        return false;
      },
      10s))
      << consumer.status().dump();
  EXPECT_TRUE(consumer.healthy());
}

TEST_F(UserCreatedConsumerTest, DatabaseOutageDelaysButNeverSkipsAnEvent) {
  // No tables yet: every insert fails the way an unreachable database does, and is retried.
  ScratchSchema schema(transaction_db_url(), "transaction_service", false);
  const auto id = domain::new_uuid_v4();
  produce(id, event(id));
  persistence::DbPool pool(schema.url(), 2, 100);
  auto ledger_ptr = ledger(pool, schema.url());
  messaging::UserCreatedConsumer consumer(system_, options(), *ledger_ptr);
  ASSERT_TRUE(eventually([&] { return counter(consumer, "db_retries") >= 3; }, 40s))
      << consumer.status().dump();
  EXPECT_EQ(counter(consumer, "processed"), 0u);

  schema.migrate();  // the database is back
  ASSERT_TRUE(eventually([&] { return counter(consumer, "processed") == 1; }, 20s))
      << consumer.status().dump();
  EXPECT_EQ(counter(consumer, "opened"), 1u);
  EXPECT_EQ(counter(consumer, "dead_lettered"), 0u);
  EXPECT_EQ(accounts(schema.url(), {id}), 1);
}

}  // namespace
}  // namespace wallet::test
