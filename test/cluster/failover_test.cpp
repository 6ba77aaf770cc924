// Failover of the replicated stack (scripts/cluster, DESIGN.md section 8) under keyed load: clients
// retry every request without a definitive answer with the same key, a part of the cluster is
// killed with SIGKILL (or switched over), and afterwards every acknowledged operation is in
// Postgres exactly once. Each test prints the outage it measured. The cluster is brought back to
// full strength by `scripts/cluster up` after each test, even when an assertion failed.
//
// Needs the variables of `scripts/cluster env` (scripts/test exports them); without them every test
// fails with a message saying so rather than passing silently.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "domain/ids.hpp"
#include "test/cluster/cluster_control.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/transfer_load.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// Keyed deposits of 0.01 to one account, one after another, each retried with its key until it
// is acknowledged, as a client would. The outage is the longest time between two acknowledgements.
class WriteProbe {
 public:
  WriteProbe(std::string url, std::string account)
      : url_(std::move(url)), account_(std::move(account)), thread_([this] { run(); }) {}
  ~WriteProbe() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Longest gap between consecutive acknowledgements, in seconds.
  double longest_gap() const {
    std::lock_guard<std::mutex> lock(mutex_);
    double longest = 0;
    for (size_t i = 1; i < acks_.size(); ++i) {
      longest = std::max(longest, std::chrono::duration<double>(acks_[i] - acks_[i - 1]).count());
    }
    return longest;
  }
  size_t acknowledged() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return acks_.size();
  }

 private:
  void run() {
    HttpClient client(url_, 2000ms);
    const auto body = nlohmann::json{{"user_id", account_}, {"amount", "0.01"}}.dump();
    while (!stopping_) {
      const std::string key = domain::new_uuid_v4();
      while (!stopping_) {
        if (client.post("/addMoney", body, {{"Idempotency-Key", key}}).status == 200) {
          std::lock_guard<std::mutex> lock(mutex_);
          acks_.push_back(Clock::now());
          break;
        }
        std::this_thread::sleep_for(50ms);
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string url_, account_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Clock::time_point> acks_;
  std::thread thread_;
};

void expect_settled_exactly_once(pqxx::connection& db, const std::vector<std::string>& ids,
                                 const std::vector<KeyedTransfer>& results, const char* tag) {
  long acknowledged = 0;
  for (const auto& transfer : results) {
    ASSERT_TRUE(transfer.final_status == 200 || transfer.final_status == 409)
        << transfer.key << " never got a definitive answer";
    if (transfer.final_status != 200) continue;
    ++acknowledged;
    auto transfer_id = nlohmann::json::parse(transfer.final_body)["transfer_id"].get<std::string>();
    pqxx::nontransaction txn(db);
    auto rows = txn.exec_params(
        "SELECT count(*), count(*) FILTER (WHERE kind = 'transfer_debit'), sum(balance_change)"
        " FROM transactions WHERE transfer_id = $1",
        transfer_id);
    EXPECT_EQ(rows[0][0].as<long>(), 2) << transfer_id;
    EXPECT_EQ(rows[0][1].as<long>(), 1) << transfer_id;
    EXPECT_EQ(rows[0][2].as<std::string>(), "0.00") << transfer_id;
  }
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids),
            acknowledged);
  for (const auto& violation : ledger_violations(db, ids)) ADD_FAILURE() << violation;
  std::printf("[%s] %zu keyed transfers, %ld acknowledged with 200, each present exactly once\n",
              tag, results.size(), acknowledged);
}

std::map<int, int> status_totals(const std::vector<KeyedTransfer>& results) {
  std::map<int, int> totals;
  for (const auto& t : results) {
    for (const auto& [status, n] : t.statuses) totals[status] += n;
  }
  return totals;
}

std::string describe(const std::map<int, int>& totals) {
  std::string out;
  for (const auto& [status, n] : totals) {
    out += (out.empty() ? "" : ", ") + std::to_string(status) + ": " + std::to_string(n);
  }
  return out;
}

// For the users with these emails: how many exist in user_service.users, and how many of those have
// no account in transaction_service.users after waiting up to `limit` for their events.
std::pair<long, long> provisioning(const Cluster& cluster, const std::vector<std::string>& emails,
                                   std::chrono::seconds limit) {
  auto users = open_db(cluster.user_db);
  pqxx::nontransaction utx(*users);
  nlohmann::json wanted = emails;
  auto rows = utx.exec_params(
      "SELECT user_id::text FROM users WHERE email IN (SELECT "
      "jsonb_array_elements_text($1::jsonb))",
      wanted.dump());
  std::vector<std::string> user_ids;
  for (const auto& row : rows) user_ids.push_back(row[0].as<std::string>());
  auto accounts = open_db(cluster.tx_db);
  long with_account = 0;
  const auto deadline = Clock::now() + limit;
  do {
    with_account = count_rows(
        *accounts, "SELECT count(*) FROM users WHERE user_id = ANY($1::uuid[])", user_ids);
    if (with_account == static_cast<long>(user_ids.size())) break;
    std::this_thread::sleep_for(250ms);
  } while (Clock::now() < deadline);
  return {static_cast<long>(user_ids.size()), static_cast<long>(user_ids.size()) - with_account};
}

class FailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.configured())
        << "the CLUSTER_* variables are not set: run under scripts/test, or "
           "`eval \"$(./scripts/cluster env)\"` after ./scripts/cluster up";
    ASSERT_TRUE(cluster_.restore()) << "the cluster is not healthy before the test";
  }
  Cluster cluster_;
};

// SIGKILL of the whole Postgres leader node: the synchronous standby takes over within 30 s, the
// services reconnect by themselves, and every acknowledged transfer is there exactly once.
TEST_F(FailoverTest, PostgresLeaderSigkillElectsNewLeaderAndLosesNoAcknowledgedTransfer) {
  RestoreAtEnd restore{cluster_};
  const std::string tx = cluster_.tx_urls.front();
  auto db = open_db(cluster_.tx_db);
  auto ids = funded_accounts(*db, tx, 16);
  auto probe = funded_accounts(*db, tx, 1).front();
  db.reset();

  constexpr int kClients = 8, kPerClient = 400;
  TransferLoad load({tx, ids, kClients, kPerClient, 50ms, 5s});
  load.start();
  WriteProbe writes(tx, probe);
  std::this_thread::sleep_for(1s);
  const int old_leader = cluster_.leader();
  ASSERT_GE(old_leader, 0) << "no Postgres leader before the kill";
  const auto killed = Clock::now();
  cluster_.kill_postgres_node(old_leader);

  int new_leader = -1;
  while (seconds_since(killed) < 45 && (new_leader = cluster_.leader()) < 0) {
    std::this_thread::sleep_for(200ms);
  }
  const double elected = seconds_since(killed);
  const size_t settled_at_election = load.settled();
  ASSERT_GE(new_leader, 0) << "no new leader 45 s after the kill";
  EXPECT_NE(new_leader, old_leader);
  EXPECT_LT(elected, 30.0) << "the new leader took longer than 30 s";
  EXPECT_LT(settled_at_election, static_cast<size_t>(kClients * kPerClient))
      << "the load was over before the failover: nothing was tested under load";
  const size_t probe_before = writes.acknowledged();
  while (writes.acknowledged() < probe_before + 10 && seconds_since(killed) < 90) {
    std::this_thread::sleep_for(100ms);
  }
  writes.stop();
  const double outage = writes.longest_gap();

  ASSERT_TRUE(load.wait(180s)) << "transfers left without a definitive answer";
  auto results = load.results();
  std::printf(
      "[cluster-pg-kill] new leader pg%d %.1f s after SIGKILL of pg%d; longest time without an "
      "acknowledged write: %.1f s (outage); request statuses {%s}\n",
      new_leader + 1, elected, old_leader + 1, outage, describe(status_totals(results)).c_str());
  EXPECT_LT(outage, 30.0);
  auto check = open_db(cluster_.tx_db);
  expect_settled_exactly_once(*check, ids, results, "cluster-pg-kill");
}

// A planned switchover by patronictl under load: the only errors clients see are retryable 503s
// (and unanswered requests, which they retry with their key), and nothing runs twice.
TEST_F(FailoverTest, PatroniSwitchoverUnderLoadOnlyCostsRetryable503s) {
  RestoreAtEnd restore{cluster_};
  const std::string tx = cluster_.tx_urls.front();
  auto db = open_db(cluster_.tx_db);
  auto ids = funded_accounts(*db, tx, 16);
  auto probe = funded_accounts(*db, tx, 1).front();
  db.reset();

  // Enough transfers to outlast the switchover (about 3 s) at 800 transfers/s, the rate of an
  // idle machine here (400 per client were over before the new leader was in place).
  constexpr int kClients = 8, kPerClient = 1'000;
  TransferLoad load({tx, ids, kClients, kPerClient, 50ms, 5s});
  load.start();
  WriteProbe writes(tx, probe);
  std::this_thread::sleep_for(1s);
  const int old_leader = cluster_.leader();
  ASSERT_GE(old_leader, 0);
  const int candidate = 1 - old_leader;
  const auto started = Clock::now();
  const std::string command = "patronictl -c '" + cluster_.patroni_config +
                              "' switchover --force --leader pg" + std::to_string(old_leader + 1) +
                              " --candidate pg" + std::to_string(candidate + 1) + " >&2";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  while (seconds_since(started) < 45 && cluster_.leader() != candidate) {
    std::this_thread::sleep_for(200ms);
  }
  const double switched = seconds_since(started);
  const size_t settled_at_switch = load.settled();
  ASSERT_EQ(cluster_.leader(), candidate) << "pg" << candidate + 1 << " did not become leader";
  EXPECT_LT(settled_at_switch, static_cast<size_t>(kClients * kPerClient))
      << "the load was over before the switchover: nothing was tested under load";
  const size_t probe_before = writes.acknowledged();
  while (writes.acknowledged() < probe_before + 10 && seconds_since(started) < 90) {
    std::this_thread::sleep_for(100ms);
  }
  writes.stop();
  const double outage = writes.longest_gap();

  ASSERT_TRUE(load.wait(180s)) << "transfers left without a definitive answer";
  auto results = load.results();
  const auto totals = status_totals(results);
  for (const auto& [status, n] : totals) {
    EXPECT_TRUE(status == 200 || status == 409 || status == 503)
        << n << " requests answered " << status << " during the switchover";
  }
  std::printf(
      "[cluster-switchover] pg%d -> pg%d: new leader %.1f s after patronictl started; longest time "
      "without an acknowledged write: %.1f s (outage); request statuses {%s}\n",
      old_leader + 1, candidate + 1, switched, outage, describe(totals).c_str());
  EXPECT_LT(outage, 30.0);
  auto check = open_db(cluster_.tx_db);
  expect_settled_exactly_once(*check, ids, results, "cluster-switchover");
}

// SIGKILL of one Kafka broker while users are created: every user exists once and every one of
// them gets its account (the user-created event reached transaction-service: none was lost).
TEST_F(FailoverTest, KafkaBrokerSigkillDuringUserCreationProvisionsEveryUserOnce) {
  RestoreAtEnd restore{cluster_};
  constexpr int kClients = 4;
  constexpr int kPerClient = 40;
  const std::string run = domain::new_uuid_v4().substr(0, 8);
  std::vector<std::string> emails;
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kPerClient; ++i) {
      emails.push_back("kafka-" + run + "-" + std::to_string(c) + "-" + std::to_string(i) +
                       "@cluster.test");
    }
  }
  std::atomic<int> created{0};
  std::mutex mutex;
  std::map<int, int> statuses;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(cluster_.user_urls[c % cluster_.user_urls.size()], 5000ms);
      for (int i = 0; i < kPerClient; ++i) {
        const auto body = nlohmann::json{{"email", emails[c * kPerClient + i]}}.dump();
        for (int attempt = 0; attempt < 600; ++attempt) {
          auto r = client.post("/createUser", body);
          {
            std::lock_guard<std::mutex> lock(mutex);
            ++statuses[r.status];
          }
          // 409 email_taken on a retry: the first attempt committed but its answer was lost.
          if (r.status == 201 || r.status == 409) break;
          std::this_thread::sleep_for(100ms);
        }
        ++created;
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  while (created < kClients * kPerClient / 3) std::this_thread::sleep_for(50ms);
  const auto killed = Clock::now();
  cluster_.kill_part("kafka1");

  // Provisioning outage: how long until a user created after the kill has its account.
  double provisioned = -1;
  {
    HttpClient client(cluster_.user_urls.front(), 5000ms);
    auto r = client.post("/createUser",
                         nlohmann::json{{"email", "kafka-probe-" + run + "@cluster.test"}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string user_id = r.json().value("user_id", "");
    auto db = open_db(cluster_.tx_db);
    while (!user_id.empty() && seconds_since(killed) < 90) {
      if (count_rows(*db, "SELECT count(*) FROM users WHERE user_id = ANY($1::uuid[])",
                     {user_id}) == 1) {
        provisioned = seconds_since(killed);
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  for (auto& t : clients) t.join();
  EXPECT_GE(provisioned, 0) << "a user created after the broker kill got no account in 90 s";

  // Every user once in user-service, and every one of them an account in transaction-service.
  auto [users, missing] = provisioning(cluster_, emails, 90s);
  EXPECT_EQ(users, static_cast<long>(emails.size())) << "users missing in user_service.users";
  EXPECT_EQ(missing, 0) << "user-created events were lost";
  const long with_account = users - missing;
  std::map<int, int> seen;
  {
    std::lock_guard<std::mutex> lock(mutex);
    seen = statuses;
  }
  std::printf(
      "[cluster-kafka-kill] %zu users created, %ld provisioned exactly once; a user created after "
      "SIGKILL of broker 1 had its account after %.1f s (provisioning outage); createUser statuses "
      "{%s}\n",
      emails.size(), with_account, provisioned, describe(seen).c_str());
}

// SIGKILL of the NATS node the balance responder is connected to: balance queries (user-service ->
// NATS -> transaction-service) fail for at most a few seconds, then answer again.
TEST_F(FailoverTest, NatsNodeSigkillBalanceQueriesRecoverWithinSeconds) {
  RestoreAtEnd restore{cluster_};
  HttpClient users(cluster_.user_urls.front(), 3000ms);
  const std::string email = "nats-" + domain::new_uuid_v4().substr(0, 8) + "@cluster.test";
  ASSERT_EQ(users.post("/createUser", nlohmann::json{{"email", email}}.dump()).status, 201);
  const std::string path = "/getBalance?email=" + url_encode(email);
  const auto ready_by = Clock::now() + 60s;
  while (users.get(path).status != 200 && Clock::now() < ready_by)
    std::this_thread::sleep_for(200ms);
  ASSERT_EQ(users.get(path).status, 200) << "the account was never provisioned";

  // The node that holds the responder's connection is the one whose loss matters.
  int node = -1;
  for (size_t i = 0; i < cluster_.nats_monitors.size(); ++i) {
    auto r = HttpClient(cluster_.nats_monitors[i], 2000ms).get("/connz");
    if (r.body.find("transaction-service.balance-responder") != std::string::npos) {
      node = static_cast<int>(i);
    }
  }
  ASSERT_GE(node, 0) << "no NATS node lists the balance responder's connection in /connz";

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, int>> samples;
  std::thread prober([&] {
    HttpClient client(cluster_.user_urls.front(), 3000ms);
    while (!stop) {
      const int status = client.get(path).status;
      {
        std::lock_guard<std::mutex> lock(mutex);
        samples.emplace_back(Clock::now(), status);
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(1s);
  const auto killed = Clock::now();
  cluster_.kill_part("nats" + std::to_string(node + 1));
  std::this_thread::sleep_for(10s);
  stop = true;
  prober.join();

  double last_failure = 0;
  int failures = 0, after = 0;
  for (const auto& [at, status] : samples) {
    if (at < killed) continue;
    ++after;
    if (status != 200) {
      ++failures;
      last_failure = std::chrono::duration<double>(at - killed).count();
    }
  }
  std::printf(
      "[cluster-nats-kill] SIGKILL nats%d (the balance responder's node): %d of %d balance "
      "queries failed, the last %.2f s after the kill (outage)\n",
      node + 1, failures, after, last_failure);
  EXPECT_LT(last_failure, 5.0) << "balance queries failed for longer than 5 s";
  EXPECT_GT(after - failures, 20) << "too few successful balance queries after the kill";
}

// Negative control of the provisioning check above: a user written straight into
// user_service.users, without its outbox row, never gets an event, and the check must count it as
// lost.
TEST_F(FailoverTest, ProvisioningCheckCountsAUserWhoseEventNeverCame) {
  const std::string email = "control-" + domain::new_uuid_v4().substr(0, 8) + "@cluster.test";
  {
    auto users = open_db(cluster_.user_db);
    pqxx::nontransaction(*users).exec_params(
        "INSERT INTO users (user_id, email, created_at) VALUES ($1, $2, now())",
        domain::new_uuid_v4(), email);
  }
  auto [users, missing] = provisioning(cluster_, {email}, 3s);
  EXPECT_EQ(users, 1);
  EXPECT_EQ(missing, 1) << "the check did not notice a user without an account";
}

}  // namespace
}  // namespace wallet::test
