// Deadlines and retention against the real stack's Postgres (issue 23, items 1 and 2), with
// transaction-service instances of the test's own (short deadlines and retention, so the tests
// are quick): a table locked as a VACUUM FULL or an ALTER TABLE would lock it must not hold a
// money request past its deadline (plus a little slack), whatever waits on it before the writer (a
// hold lookup, an account load; a new key no longer waits for a lookup); and an idempotency outcome
// is replayed exactly as long as it is stored, counted from when it was stored, whichever instance
// learned it when.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 2000ms;
// The contract's slack (0.5 s) plus room for a shared, noisy two-core machine.
constexpr double kAnsweredWithin = 2.0 + 0.5 + 0.7;

struct OwnInstance {
  explicit OwnInstance(const std::string& name, std::map<std::string, std::string> env)
      : port(free_port()),
        url("http://127.0.0.1:" + std::to_string(port)),
        process(bin_dir() + "/transaction-service",
                private_transaction_service_env(port, name, std::move(env)),
                "transaction-service-" + name) {
    process.start();
  }
  bool ready() { return process.wait_ready(url, 60s); }

  int port;
  std::string url;
  ServiceProcess process;
};

// An instance whose requests must be answered within 2 s (+ slack) and whose pool would wait for
// a lock much longer than that: the deadline must answer, not the statement timeout.
std::map<std::string, std::string> short_deadline() {
  return {{"REQUEST_DEADLINE_MS", std::to_string(kDeadline.count())},
          {"DB_STATEMENT_TIMEOUT_MS", "30000"}};
}

// Holds an ACCESS EXCLUSIVE lock on `table` (as VACUUM FULL takes) until release() or the end.
class TableLock {
 public:
  explicit TableLock(const std::string& table) : conn_(transaction_db_url()), txn_(conn_) {
    txn_.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
  }
  void release() {
    if (!released_) txn_.abort();
    released_ = true;
  }
  ~TableLock() { release(); }

 private:
  pqxx::connection conn_;
  pqxx::work txn_;
  bool released_ = false;
};

std::string body(const nlohmann::json& json) { return json.dump(); }

long deposits_of(pqxx::connection& db, const std::string& user_id) {
  return count_rows(db, "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])",
                    {user_id});
}

// A new key no longer waits for a lookup before it runs (issue 28): the deposits reach the writer
// at once, so their commit (whose outcome insert waits for the lock) answers them, not their
// deadline: each is applied once when the lock goes, and told 200 then, never a timeout for what
// was about to commit.
TEST(DeadlineTest, KeyedDepositsBehindALockedKeyTableAreAnsweredByTheirCommit) {
  OwnInstance service("deadline-keys", short_deadline());
  ASSERT_TRUE(service.ready()) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  const auto ids = create_accounts(db, 3);
  HttpClient client(service.url, 20s);

  std::vector<HttpResponse> answers(ids.size());
  std::vector<std::string> keys;
  for (size_t i = 0; i < ids.size(); ++i) keys.push_back(domain::new_uuid_v4());
  const auto locked_for = 2500ms;  // beyond the deadline, within the writer's statement timeout
  {
    TableLock lock("idempotency_keys");
    std::vector<std::thread> clients;
    for (size_t i = 0; i < ids.size(); ++i) {
      clients.emplace_back([&, i] {
        answers[i] = client.post("/addMoney", body({{"user_id", ids[i]}, {"amount", "1.00"}}),
                                 {{"Idempotency-Key", keys[i]}});
      });
    }
    std::this_thread::sleep_for(locked_for);
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(deposits_of(db, ids[i]), 0);
    lock.release();
    for (auto& c : clients) c.join();
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(answers[i].status, 200) << answers[i].body;
    EXPECT_GE(answers[i].seconds, 2.0) << "deposit " << i << " answered before its commit";
    EXPECT_EQ(deposits_of(db, ids[i]), 1);
  }
  // Their keys hold the outcomes: a retry replays, nothing runs twice.
  for (size_t i = 0; i < ids.size(); ++i) {
    auto retry = client.post("/addMoney", body({{"user_id", ids[i]}, {"amount", "1.00"}}),
                             {{"Idempotency-Key", keys[i]}});
    EXPECT_EQ(retry.status, 200) << retry.body;
    EXPECT_EQ(retry.body, answers[i].body);
    EXPECT_EQ(retry.headers["idempotent-replayed"], "true");
    EXPECT_EQ(deposits_of(db, ids[i]), 1);
  }
  std::printf(
      "[deadline] keyed deposits behind a locked key table answered by their commit in %.2f, "
      "%.2f, %.2f s\n",
      answers[0].seconds, answers[1].seconds, answers[2].seconds);
}

TEST(DeadlineTest, ACaptureWaitingForALockedHoldTableIsAnsweredByItsDeadline) {
  OwnInstance service("deadline-holds", short_deadline());
  ASSERT_TRUE(service.ready()) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  const auto ids = create_accounts(db, 2);
  HttpClient client(service.url, 20s);
  ASSERT_EQ(client.post("/addMoney", body({{"user_id", ids[0]}, {"amount", "10.00"}})).status, 200);
  auto hold = client.post(
      "/holds", body({{"from_user_id", ids[0]}, {"to_user_id", ids[1]}, {"amount", "4.00"}}));
  ASSERT_EQ(hold.status, 201) << hold.body;
  const auto hold_id = hold.json()["hold_id"].get<std::string>();

  HttpResponse capture;
  {
    TableLock lock("holds");
    capture = client.post("/holds/" + hold_id + "/capture", "{}");
  }
  EXPECT_EQ(capture.status, 503) << capture.body;
  EXPECT_EQ(capture.error_code(), "timeout") << capture.body;
  EXPECT_LE(capture.seconds, kAnsweredWithin);
  // Nothing changed: the hold is still pending and can be captured now.
  auto after = client.post("/holds/" + hold_id + "/capture", "{}");
  EXPECT_EQ(after.status, 200) << after.body;
  std::printf("[deadline] capture behind a locked hold table answered in %.2f s\n",
              capture.seconds);
}

TEST(DeadlineTest, AHoldWhosePayeeMustBeLoadedWhileAccountsAreLockedIsAnsweredByItsDeadline) {
  OwnInstance service("deadline-payee", short_deadline());
  ASSERT_TRUE(service.ready()) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  const auto ids = create_accounts(db, 2);
  HttpClient client(service.url, 20s);
  // The payer is loaded (its deposit); the payee never was, so the hold's payee check loads it.
  ASSERT_EQ(client.post("/addMoney", body({{"user_id", ids[0]}, {"amount", "10.00"}})).status, 200);
  HttpResponse hold;
  {
    TableLock lock("users");
    hold = client.post(
        "/holds", body({{"from_user_id", ids[0]}, {"to_user_id", ids[1]}, {"amount", "4.00"}}));
  }
  EXPECT_EQ(hold.status, 503) << hold.body;
  EXPECT_EQ(hold.error_code(), "timeout") << hold.body;
  EXPECT_LE(hold.seconds, kAnsweredWithin);
  EXPECT_EQ(
      count_rows(db, "SELECT count(*) FROM holds WHERE from_user_id = ANY($1::uuid[])", {ids[0]}),
      0)
      << "a hold answered timeout was written";
  std::printf("[deadline] hold behind a locked account table answered in %.2f s\n", hold.seconds);
}

// Negative control of the three above: without a lock the same requests are answered at once,
// so what they measure is the lock's wait, cut by the deadline.
TEST(DeadlineTest, NegativeControlWithoutALockTheSameRequestsSucceedAtOnce) {
  OwnInstance service("deadline-control", short_deadline());
  ASSERT_TRUE(service.ready()) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  const auto ids = create_accounts(db, 2);
  HttpClient client(service.url, 20s);
  auto deposit = client.post("/addMoney", body({{"user_id", ids[0]}, {"amount", "10.00"}}),
                             {{"Idempotency-Key", domain::new_uuid_v4()}});
  EXPECT_EQ(deposit.status, 200) << deposit.body;
  auto hold = client.post(
      "/holds", body({{"from_user_id", ids[0]}, {"to_user_id", ids[1]}, {"amount", "4.00"}}));
  EXPECT_EQ(hold.status, 201) << hold.body;
  EXPECT_LT(deposit.seconds + hold.seconds, 1.0);
}

// Retention counts from when the outcome was stored: instance B learns a key's outcome (its
// commit finds the key taken, then it looks it up) shortly before its retention ends, and must
// treat the key as new once the retention has passed, exactly as Postgres and a fresh instance
// would, not a retention later.
TEST(RetentionTest, AnOutcomeLearnedNearItsEndIsForgottenWhenItsRetentionEnds) {
  const std::map<std::string, std::string> ttl{{"IDEMPOTENCY_TTL", "4"}};
  OwnInstance first("retention-a", ttl);
  OwnInstance second("retention-b", ttl);
  ASSERT_TRUE(first.ready()) << first.process.log_path();
  ASSERT_TRUE(second.ready()) << second.process.log_path();
  pqxx::connection db(transaction_db_url());
  const auto ids = create_accounts(db, 1);
  const std::string request = body({{"user_id", ids[0]}, {"amount", "1.00"}});
  const HttpHeaders key{{"Idempotency-Key", domain::new_uuid_v4()}};

  auto stored = HttpClient(first.url).post("/addMoney", request, key);
  ASSERT_EQ(stored.status, 200) << stored.body;
  const auto stored_at = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(stored_at + 2500ms);
  HttpClient late(second.url);
  auto learned = late.post("/addMoney", request, key);  // 1.5 s of retention left
  EXPECT_EQ(learned.status, 200) << learned.body;
  EXPECT_EQ(learned.headers.count("idempotent-replayed"), 1u) << "within retention: a replay";
  EXPECT_EQ(learned.body, stored.body);
  EXPECT_EQ(deposits_of(db, ids[0]), 1);
  // B ran it (no lookup first) and its commit found the key taken by A's outcome (issue 28).
  EXPECT_NE(late.get("/metrics").body.find("ledger_idempotency_keys_taken_total 1"),
            std::string::npos);

  std::this_thread::sleep_until(stored_at + 5000ms);
  auto reused = late.post("/addMoney", request, key);
  EXPECT_EQ(reused.status, 200) << reused.body;
  EXPECT_EQ(reused.headers.count("idempotent-replayed"), 0u)
      << "replayed from memory after its retention: " << reused.body;
  EXPECT_EQ(deposits_of(db, ids[0]), 2) << "a key reused after its retention is a new operation";
}

}  // namespace
}  // namespace wallet::test
