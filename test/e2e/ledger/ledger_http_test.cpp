// transaction-service's money API over HTTP against the running service (scripts/up): thousands of
// concurrent and duplicated transfers with every ledger invariant checked in Postgres afterwards,
// opposing transfers, and idempotency across a SIGKILL and restart of the service.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

std::string transfer_body(const std::string& from, const std::string& to,
                          const std::string& amount) {
  return nlohmann::json{{"from_user_id", from}, {"to_user_id", to}, {"amount_to_transfer", amount}}
      .dump();
}

std::string deposit_body(const std::string& user, const std::string& amount) {
  return nlohmann::json{{"user_id", user}, {"amount", amount}}.dump();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * (values.size() - 1));
  return values[index];
}

struct Attempt {
  std::string key;
  std::string body;
};

struct Outcome {
  int status;
  std::string body;
  bool replayed;
};

TEST(LedgerHttpTest, TenThousandConcurrentDuplicatedTransfersKeepEveryInvariant) {
  constexpr int kAccounts = 20;
  constexpr int kTransfers = 10'000;
  constexpr int kClients = 32;
  pqxx::connection db(transaction_db_url());
  auto ids = create_accounts(db, kAccounts);
  HttpClient client(transaction_service_url());
  for (const auto& id : ids) {
    auto funded = client.post("/addMoney", deposit_body(id, "1000.00"),
                              {{"Idempotency-Key", domain::new_uuid_v4()}});
    ASSERT_EQ(funded.status, 200) << funded.body;
  }

  // The work list: every transfer once; a quarter of them again, half of those right behind the
  // original (so two clients send them concurrently) and half at the end (a late retry).
  std::mt19937_64 random(42);
  std::vector<Attempt> work;
  std::vector<Attempt> late;
  for (int i = 0; i < kTransfers; ++i) {
    int from = static_cast<int>(random() % kAccounts);
    int to = static_cast<int>((from + 1 + random() % (kAccounts - 1)) % kAccounts);
    int64_t cents = 100 + static_cast<int64_t>(random() % 29'900);  // 1.00 .. 299.99
    char amount[32];
    std::snprintf(amount, sizeof(amount), "%ld.%02ld", static_cast<long>(cents / 100),
                  static_cast<long>(cents % 100));
    Attempt attempt{domain::new_uuid_v4(), transfer_body(ids[from], ids[to], amount)};
    work.push_back(attempt);
    if (i % 4 == 0) (i % 8 == 0 ? work : late).push_back(attempt);
  }
  work.insert(work.end(), late.begin(), late.end());

  std::mutex mutex;
  std::map<std::string, std::vector<Outcome>> outcomes;
  std::vector<double> latencies;
  std::atomic<size_t> next{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      HttpClient mine(transaction_service_url(), 30s);
      for (size_t i = next++; i < work.size(); i = next++) {
        auto response =
            mine.post("/transferMoney", work[i].body, {{"Idempotency-Key", work[i].key}});
        std::lock_guard<std::mutex> lock(mutex);
        latencies.push_back(response.seconds);
        outcomes[work[i].key].push_back(
            {response.status, response.body, response.headers.count("idempotent-replayed") > 0});
      }
    });
  }
  for (auto& t : clients) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "[ledger-stress] %zu requests (%d transfers) from %d clients in %.2f s: %.0f req/s, "
      "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      work.size(), kTransfers, kClients, elapsed, work.size() / elapsed,
      percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000,
      percentile(latencies, 1.0) * 1000);

  // Every key has exactly one outcome: one original answer, every other copy a replay of it.
  int succeeded = 0;
  int refused = 0;
  for (const auto& [key, answers] : outcomes) {
    const auto& first = answers.front();
    ASSERT_TRUE(first.status == 200 || first.status == 409) << first.status << " " << first.body;
    int originals = 0;
    for (const auto& answer : answers) {
      EXPECT_EQ(answer.status, first.status) << key;
      EXPECT_EQ(answer.body, first.body) << key;
      originals += answer.replayed ? 0 : 1;
    }
    EXPECT_EQ(originals, 1) << key;
    (first.status == 200 ? succeeded : refused)++;
  }
  std::printf("[ledger-stress] %d transfers succeeded, %d refused for insufficient funds\n",
              succeeded, refused);
  EXPECT_EQ(outcomes.size(), static_cast<size_t>(kTransfers));
  EXPECT_GT(refused, 0) << "amounts were chosen so that some transfers fail";
  EXPECT_GT(succeeded, kTransfers / 2);

  auto violations = ledger_violations(db, ids);
  for (const auto& v : violations) ADD_FAILURE() << v;
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids),
            succeeded);
  EXPECT_EQ(count_rows(db,
                       "SELECT coalesce(sum(balance), 0)::bigint FROM users"
                       " WHERE user_id = ANY($1::uuid[])",
                       ids),
            kAccounts * 1000);
}

TEST(LedgerHttpTest, OpposingTransfersAllFinishWithoutDeadlock) {
  pqxx::connection db(transaction_db_url());
  auto ids = create_accounts(db, 2);
  HttpClient client(transaction_service_url());
  for (const auto& id : ids)
    ASSERT_EQ(client.post("/addMoney", deposit_body(id, "500.00")).status, 200);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int side = 0; side < 2; ++side) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, side] {
        HttpClient mine(transaction_service_url(), 10s);
        for (int i = 0; i < 150; ++i) {
          auto r = mine.post("/transferMoney", transfer_body(ids[side], ids[1 - side], "1.00"));
          if (r.status == 200) ++ok;
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1'200);
  EXPECT_EQ(db_balance(db, ids[0]), "500.00");
  EXPECT_EQ(db_balance(db, ids[1]), "500.00");
  EXPECT_TRUE(ledger_violations(db, ids).empty());
}

TEST(LedgerHttpTest, KeyIsReplayedAfterTheServiceIsKilledAndRestarted) {
  pqxx::connection db(transaction_db_url());
  auto ids = create_accounts(db, 1);
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  // An instance of our own, on its own port, that only this test kills. It consumes a topic of its
  // own so that it never takes Kafka partitions from the stack's instance.
  ServiceProcess service(bin_dir() + "/transaction-service",
                         private_transaction_service_env(port, "restart"),
                         "transaction-service-restart");
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();

  HttpClient client(url);
  const std::string key = domain::new_uuid_v4();
  auto first = client.post("/addMoney", deposit_body(ids[0], "42.42"), {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 200) << first.body;

  service.kill_now();
  service.start();
  ASSERT_TRUE(service.wait_ready(url, 60s)) << "see " << service.log_path();

  auto again = client.post("/addMoney", deposit_body(ids[0], "42.42"), {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  auto other = client.post("/addMoney", deposit_body(ids[0], "1.00"), {{"Idempotency-Key", key}});
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(db_balance(db, ids[0]), "42.42");
  EXPECT_EQ(
      count_rows(db, "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])", ids), 1);
  EXPECT_EQ(service.terminate(20s), 0);
}

}  // namespace
}  // namespace wallet::test
