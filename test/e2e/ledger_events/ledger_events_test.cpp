// The `ledger-events` stream end to end (SPEC.md section 3): a transaction-service of the test's
// own, on a scratch schema and a Kafka topic of its own, takes deposits and concurrent transfers;
// the events read back from Kafka must add up to every balance, form each account's old -> new
// chain in commit order, and carry exactly the contract's fields. And with Kafka unreachable while
// the money moves, nothing is lost: the events wait in the outbox and are published by the next
// instance that reaches Kafka. The shared Kafka is never stopped: the outage is a service pointed
// at a closed port.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/scratch_schema.hpp"
#include "test/support/service_process.hpp"
#include "test/support/transfer_load.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// "-12.34" -> -1234; nullopt unless exactly an optional '-', digits and two decimals.
std::optional<int64_t> cents(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string text = value.get<std::string>();
  size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  const size_t dot = text.find('.');
  if (dot == std::string::npos || dot == i || text.size() - dot != 3) return std::nullopt;
  int64_t whole = 0;
  for (size_t k = i; k < text.size(); ++k) {
    if (k == dot) continue;
    if (text[k] < '0' || text[k] > '9') return std::nullopt;
    whole = whole * 10 + (text[k] - '0');
  }
  return i ? -whole : whole;
}

// What a consumer of ledger-events must be able to rely on, checked against the balances in
// Postgres: every value has exactly the contract's fields and the key is its user_id; after
// deduplication by event_id, each account's events (in partition order) form its chain from 0.00,
// their balance_change adds up to its balance, and their number is its number of ledger rows.
// One line per violation; empty when the stream adds up.
std::vector<std::string> stream_violations(const std::vector<KafkaRecord>& records,
                                           const std::map<std::string, std::string>& balances,
                                           const std::map<std::string, long>& row_counts) {
  // SPEC.md section 3, with release 3's account_id and currency (section 8).
  static const std::set<std::string> kFields{
      "event_id",       "transaction_id", "user_id",     "account_id",  "currency",  "kind",
      "balance_change", "old_balance",    "new_balance", "transfer_id", "created_at"};
  std::vector<std::string> violations;
  std::set<std::string> seen;
  struct Chain {
    int64_t balance = 0;
    long events = 0;
  };
  std::map<std::string, Chain> chains;
  for (const auto& record : records) {
    auto event = nlohmann::json::parse(record.value, nullptr, false);
    if (!event.is_object()) {
      violations.push_back("not a JSON object: " + record.value);
      continue;
    }
    if (event.contains("hold_id")) continue;  // hold events: checked by their own test
    std::set<std::string> fields;
    for (auto it = event.begin(); it != event.end(); ++it) fields.insert(it.key());
    if (fields != kFields) violations.push_back("fields differ from the contract: " + record.value);
    if (!event["event_id"].is_string() ||
        !seen.insert(event["event_id"].get<std::string>()).second) {
      continue;  // a redelivery: consumers deduplicate by event_id
    }
    const std::string user = event.value("user_id", "");
    if (record.key != user) violations.push_back("key " + record.key + " != user_id " + user);
    auto change = cents(event["balance_change"]);
    auto before = cents(event["old_balance"]);
    auto after = cents(event["new_balance"]);
    if (!change || !before || !after) {
      violations.push_back("money not as two-decimal strings: " + record.value);
      continue;
    }
    // Each account's chain (for the default accounts used here, account_id = user_id).
    auto& chain = chains[event.value("account_id", user)];
    if (*before != chain.balance) {
      violations.push_back(user + ": event " + event["event_id"].get<std::string>() +
                           " starts at " + event["old_balance"].get<std::string>() +
                           ", out of commit order or after a gap");
    }
    if (*before + *change != *after) violations.push_back("old + change != new: " + record.value);
    chain.balance = *after;
    ++chain.events;
  }
  for (const auto& [user, balance] : balances) {
    const auto it = chains.find(user);
    const int64_t streamed = it == chains.end() ? 0 : it->second.balance;
    const long events = it == chains.end() ? 0 : it->second.events;
    if (cents(nlohmann::json(balance)) != streamed) {
      violations.push_back(user + ": the stream adds up to " + std::to_string(streamed) +
                           " cents, the balance is " + balance);
    }
    if (events != row_counts.at(user)) {
      violations.push_back(user + ": " + std::to_string(events) + " events for " +
                           std::to_string(row_counts.at(user)) + " ledger rows");
    }
  }
  return violations;
}

// A transaction-service of the test's own on `schema`, publishing to `topic` via `brokers`.
ServiceProcess own_service(int port, const ScratchSchema& schema, const std::string& topic,
                           const std::string& brokers, const std::string& log_name) {
  return ServiceProcess(bin_dir() + "/transaction-service",
                        private_transaction_service_env(port, "events",
                                                        {{"DATABASE_URL", schema.url()},
                                                         {"LEDGER_EVENTS_TOPIC", topic},
                                                         {"KAFKA_BROKERS", brokers}}),
                        log_name);
}

bool wait_healthy(const std::string& url, std::chrono::seconds limit) {
  HttpClient client(url, 1000ms);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (client.get("/healthz").status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Deposits 500.00 on each account, then concurrent transfers among them, all keyed and settled.
void move_money(const std::string& url, const std::vector<std::string>& ids, int per_client) {
  HttpClient client(url);
  for (const auto& id : ids) {
    auto r = client.post("/addMoney", nlohmann::json{{"user_id", id}, {"amount", "500.00"}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  TransferLoad load({url, ids, 8, per_client, 20ms, 5s});
  load.start();
  ASSERT_TRUE(load.wait(120s)) << "transfers left without a definitive answer";
}

struct LedgerState {
  std::map<std::string, std::string> balances;
  std::map<std::string, long> rows;
  long total_rows = 0;
};

LedgerState ledger_state(pqxx::connection& db, const std::vector<std::string>& ids) {
  LedgerState state;
  pqxx::nontransaction txn(db);
  for (const auto& id : ids) {
    auto r = txn.exec_params(
        "SELECT u.balance::text, (SELECT count(*) FROM transactions t WHERE t.user_id = u.user_id)"
        " FROM users u WHERE u.user_id = $1",
        id);
    state.balances[id] = r[0][0].as<std::string>();
    state.rows[id] = r[0][1].as<long>();
    state.total_rows += state.rows[id];
  }
  return state;
}

// Events waiting in the outbox: an entry of one ledger statement holds all its rows (014).
long outbox_rows(pqxx::connection& db) {
  pqxx::nontransaction txn(db);
  return txn
      .exec(
          "SELECT (SELECT count(*) FROM ledger_outbox)"
          " + (SELECT coalesce(sum(cardinality(row_ids)), 0) FROM ledger_outbox_statements)")[0][0]
      .as<long>();
}

// Every record of `topic` until `distinct` different event_ids were seen (or the time is up).
std::vector<KafkaRecord> read_events(const std::string& topic, long distinct,
                                     std::chrono::seconds limit) {
  std::vector<KafkaRecord> records;
  std::set<std::string> ids;
  KafkaReader reader(kafka_brokers(), topic, KafkaReader::From::beginning);
  EXPECT_EQ(reader.error(), "");
  reader.find(
      [&](const KafkaRecord& record) {
        records.push_back(record);
        auto event = nlohmann::json::parse(record.value, nullptr, false);
        if (event.is_object() && event.contains("event_id"))
          ids.insert(event.value("event_id", ""));
        return static_cast<long>(ids.size()) >= distinct;
      },
      limit);
  return records;
}

std::string new_topic() {
  return "wallet-test-ledger-events-" + domain::new_uuid_v4().substr(0, 8);
}

TEST(LedgerEventsTest, EventsReadFromKafkaAddUpToEveryBalanceInCommitOrder) {
  ScratchSchema schema(transaction_db_url(), "transaction_service", false);
  const std::string topic = new_topic();
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto service = own_service(port, schema, topic, kafka_brokers(), "transaction-service-events");
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << service.log_path();
  pqxx::connection db(schema.url());
  auto ids = create_accounts(db, 6);
  move_money(url, ids, 40);

  auto state = ledger_state(db, ids);
  auto records = read_events(topic, state.total_rows, 60s);
  auto violations = stream_violations(records, state.balances, state.rows);
  for (const auto& v : violations) ADD_FAILURE() << v;
  EXPECT_TRUE(violations.empty());
  std::printf("[ledger-events] %ld ledger rows, %zu records read, every balance adds up\n",
              state.total_rows, records.size());

  // Published means acknowledged and then deleted: the outbox empties, and the admin view and
  // /metrics say so.
  for (int i = 0; i < 100 && outbox_rows(db) > 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(outbox_rows(db), 0);
  HttpClient client(url);
  auto bridges = client.get("/admin/bridges", {{"Authorization", "Bearer test"}});
  ASSERT_EQ(bridges.status, 200) << bridges.body;
  auto relay = bridges.json()["ledger_events"];
  EXPECT_EQ(relay["topic"], topic);
  EXPECT_GE(relay["counters"]["published"].get<long>(), state.total_rows) << relay.dump();
  auto metrics = client.get("/metrics").body;
  EXPECT_NE(metrics.find("ledger_events_pending"), std::string::npos);
  EXPECT_NE(metrics.find("ledger_events_published_total"), std::string::npos);

  // Negative controls: the checker fails on a lost event and on two events out of order.
  auto lost = records;
  lost.erase(lost.begin() + static_cast<long>(lost.size() / 2));
  EXPECT_FALSE(stream_violations(lost, state.balances, state.rows).empty());
  auto swapped = records;
  for (size_t i = 1; i < swapped.size(); ++i) {
    if (swapped[i].key == swapped[0].key) {
      std::swap(swapped[0], swapped[i]);
      break;
    }
  }
  EXPECT_FALSE(stream_violations(swapped, state.balances, state.rows).empty());
  auto redelivered = records;
  redelivered.push_back(records.front());  // a duplicate is not a violation: deduplicated
  EXPECT_TRUE(stream_violations(redelivered, state.balances, state.rows).empty());
  service.terminate(15s);
}

TEST(LedgerEventsTest, MoneyMovedWhileKafkaIsUnreachableIsPublishedLaterNothingLost) {
  ScratchSchema schema(transaction_db_url(), "transaction_service", false);
  const std::string topic = new_topic();
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  // Kafka "down": a port where nothing listens. The ledger does not need Kafka to commit.
  const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
  pqxx::connection db(schema.url());
  std::vector<std::string> ids;
  {
    auto cut_off = own_service(port, schema, topic, nowhere, "transaction-service-events-outage");
    cut_off.start();
    ASSERT_TRUE(wait_healthy(url, 60s)) << cut_off.log_path();
    ids = create_accounts(db, 4);
    move_money(url, ids, 15);
    auto state = ledger_state(db, ids);
    EXPECT_EQ(outbox_rows(db), state.total_rows) << "every committed row waits in the outbox";
    // The relay learns that Kafka is away when its first deliveries time out, then backs off.
    HttpClient client(url);
    nlohmann::json relay;
    for (int i = 0; i < 300; ++i) {
      relay = client.get("/admin/bridges", {{"Authorization", "Bearer test"}}).json();
      if (relay["ledger_events"]["state"] == "backoff") break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(relay["ledger_events"]["state"], "backoff") << relay.dump();
    EXPECT_EQ(relay["ledger_events"]["counters"]["published"], 0) << relay.dump();
    EXPECT_GT(relay["ledger_events"]["pending"].get<long>(), 0) << relay.dump();
    EXPECT_EQ(outbox_rows(db), state.total_rows);
    EXPECT_EQ(cut_off.terminate(60s), 0);
  }
  EXPECT_GT(outbox_rows(db), 0) << "stopping without Kafka must not drop the outbox";

  auto service =
      own_service(port, schema, topic, kafka_brokers(), "transaction-service-events-back");
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << service.log_path();
  auto state = ledger_state(db, ids);
  auto records = read_events(topic, state.total_rows, 60s);
  auto violations = stream_violations(records, state.balances, state.rows);
  for (const auto& v : violations) ADD_FAILURE() << v;
  std::printf("[ledger-events] outage: %ld rows committed without Kafka, %zu records later\n",
              state.total_rows, records.size());
  for (int i = 0; i < 100 && outbox_rows(db) > 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(outbox_rows(db), 0);
  service.terminate(15s);
}

}  // namespace
}  // namespace wallet::test
