// Partition ownership as a client and an operator see it (SPEC.md section 7), on an instance of
// the test's own over a scratch schema: GET /admin/partitions lists every partition with its owner
// and epoch; when another instance takes a partition, this instance's commits are refused with a
// retryable 503 partition_moved, nothing changes, and the metric counts them; after a restart (the
// instance takes every partition again) a keyed retry executes exactly once and then replays.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/scratch_schema.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

std::string deposit(const std::string& user, const char* amount) {
  return nlohmann::json{{"user_id", user}, {"amount", amount}}.dump();
}

double metric(const HttpClient& client, const std::string& name) {
  const auto body = client.get("/metrics").body;
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + name.size() + 2));
}

TEST(PartitionsTest, AMovedPartitionRefusesCommitsWith503AndTheMapShowsIt) {
  ScratchSchema schema(transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  const std::string x = domain::new_uuid_v4();
  std::string y;
  do {
    y = domain::new_uuid_v4();
  } while (domain::partition_of(y, 12) == domain::partition_of(x, 12));
  for (const auto& id : {x, y}) {
    pqxx::nontransaction(db).exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 0)", id);
  }
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  ServiceProcess service(bin_dir() + "/transaction-service",
                         private_transaction_service_env(port, "partitions",
                                                         {{"DATABASE_URL", schema.url()},
                                                          {"PARTITION_OWNERSHIP", "all"},
                                                          {"INSTANCE_ID", "e2e-owner"},
                                                          {"LEDGER_EVENTS", "off"}}),
                         "transaction-service-partitions");
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();
  HttpClient client(url);
  const HttpHeaders admin{{"Authorization", "Bearer test"}};

  EXPECT_EQ(client.get("/admin/partitions").status, 401);
  auto map = client.get("/admin/partitions", admin);
  ASSERT_EQ(map.status, 200) << map.body;
  auto doc = map.json();  // a value: json() returns a temporary
  ASSERT_EQ(doc["partition_count"], 12);
  EXPECT_EQ(doc["instance_id"], "e2e-owner");
  for (const auto& p : doc["partitions"]) {
    EXPECT_EQ(p["owner"], "e2e-owner") << p.dump();
    EXPECT_EQ(p["epoch"], 1) << p.dump();
    EXPECT_EQ(p["held_here"], true) << p.dump();
  }
  // The control: while it owns everything, it commits.
  auto first = client.post("/addMoney", deposit(x, "10.00"), {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(first.status, 200) << first.body;

  // Another instance takes x's partition.
  const int moved = domain::partition_of(x, 12);
  pqxx::nontransaction(db).exec_params("SELECT partition_take($1, 'intruder')", moved);
  auto refused = client.post("/addMoney", deposit(x, "5.00"), {{"Idempotency-Key", "k2"}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.error_code(), "partition_moved") << refused.body;
  // Its claim is stale: it commits nothing, in any partition, until it takes them again.
  EXPECT_EQ(client.post("/addMoney", deposit(y, "1.00")).error_code(), "partition_moved");
  pqxx::nontransaction read(db);
  EXPECT_EQ(read.exec_params1("SELECT balance::text FROM users WHERE user_id = $1", x)[0]
                .as<std::string>(),
            "10.00");
  EXPECT_EQ(read.exec1("SELECT count(*) FROM transactions")[0].as<int>(), 1);
  EXPECT_EQ(read.exec1("SELECT count(*) FROM idempotency_keys")[0].as<int>(), 1);
  EXPECT_GE(metric(client, "ledger_commits_fenced_total"), 2);
  map = client.get("/admin/partitions", admin);
  ASSERT_EQ(map.status, 200);
  const auto entry = map.json()["partitions"][moved];
  EXPECT_EQ(entry["owner"], "intruder");
  EXPECT_EQ(entry["epoch"], 2);
  EXPECT_EQ(entry["held_here"], false);

  // Restarted, it takes every partition again: the keyed retry executes once, then replays.
  EXPECT_EQ(service.terminate(20s), 0);
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();
  auto retried = client.post("/addMoney", deposit(x, "5.00"), {{"Idempotency-Key", "k2"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["updated_balance"], "15.00");
  auto replayed = client.post("/addMoney", deposit(x, "5.00"), {{"Idempotency-Key", "k2"}});
  EXPECT_EQ(replayed.status, 200);
  EXPECT_EQ(replayed.body, retried.body);
  EXPECT_EQ(replayed.headers["idempotent-replayed"], "true");
  EXPECT_EQ(read.exec_params1("SELECT balance::text FROM users WHERE user_id = $1", x)[0]
                .as<std::string>(),
            "15.00");
  const auto after = client.get("/admin/partitions", admin).json()["partitions"][moved];
  EXPECT_EQ(after["owner"], "e2e-owner");
  EXPECT_EQ(after["epoch"], 3);
  EXPECT_EQ(service.terminate(20s), 0);
}

}  // namespace
}  // namespace wallet::test
