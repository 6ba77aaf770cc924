// Crash and shutdown under load: transaction-service is killed with SIGKILL at random moments while
// clients transfer money, restarted each time, and every unanswered request is retried with its
// key. Afterwards every acknowledged transfer is in Postgres exactly once and every invariant
// holds. And SIGTERM under load: requests already sent are answered before the process exits.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"
#include "test/support/transfer_load.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// A transaction-service of the test's own, on a free port, that only this test kills.
struct OwnInstance {
  OwnInstance()
      : port(free_port()),
        url("http://127.0.0.1:" + std::to_string(port)),
        process(bin_dir() + "/transaction-service", private_transaction_service_env(port, "crash"),
                "transaction-service-crash") {}

  int port;
  std::string url;
  ServiceProcess process;
};

std::vector<std::string> funded_accounts(pqxx::connection& db, const std::string& url, int count) {
  auto ids = create_accounts(db, count);
  HttpClient client(url);
  for (const auto& id : ids) {
    auto r = client.post("/addMoney", nlohmann::json{{"user_id", id}, {"amount", "500.00"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
  }
  return ids;
}

void expect_settled_exactly_once(pqxx::connection& db, const std::vector<std::string>& ids,
                                 const std::vector<KeyedTransfer>& results) {
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
  // Nothing beyond what was acknowledged: no transfer ran twice or without an answer.
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids),
            acknowledged);
  for (const auto& violation : ledger_violations(db, ids)) ADD_FAILURE() << violation;
  std::printf("[crash] %zu keyed transfers, %ld acknowledged with 200, all checked in Postgres\n",
              results.size(), acknowledged);
}

TEST(CrashTest, FiveKillsUnderLoadLoseNothingAndExecuteNothingTwice) {
  OwnInstance service;
  service.process.start();
  ASSERT_TRUE(service.process.wait_ready(service.url, 60s)) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  auto ids = funded_accounts(db, service.url, 12);

  TransferLoad load({service.url, ids, 16, 150, 20ms, 5s});
  load.start();
  std::mt19937 random(std::random_device{}());
  int kills = 0;
  for (; kills < 5; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 900));
    service.process.kill_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 300));
    service.process.start();
    ASSERT_TRUE(service.process.wait_ready(service.url, 60s)) << service.process.log_path();
  }
  ASSERT_TRUE(load.wait(180s)) << "transfers left without a definitive answer";
  auto results = load.results();
  int unanswered = 0;
  for (const auto& t : results) unanswered += t.unanswered;
  std::printf("[crash] %d SIGKILLs survived; %d requests had no answer and were retried\n", kills,
              unanswered);
  expect_settled_exactly_once(db, ids, results);
}

TEST(CrashTest, SigtermUnderLoadAnswersWhatWasSentThenExits) {
  OwnInstance service;
  service.process.start();
  ASSERT_TRUE(service.process.wait_ready(service.url, 60s)) << service.process.log_path();
  pqxx::connection db(transaction_db_url());
  auto ids = funded_accounts(db, service.url, 8);

  // Clients that never retry: each records whether its in-flight request got an HTTP answer.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> cut_off{0};
  std::atomic<int64_t> signal_at_ms{0};
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(service.url, 10s);
      while (!stop.load()) {
        const int64_t sent = now_ms();
        const int64_t signal = signal_at_ms.load();
        if (signal != 0 && sent > signal) break;  // only requests sent before the signal count
        auto r = client.post("/transferMoney",
                             nlohmann::json{{"from_user_id", ids[c % 8]},
                                            {"to_user_id", ids[(c + 1) % 8]},
                                            {"amount_to_transfer", "0.01"}}
                                 .dump(),
                             {{"Connection", "keep-alive"}});
        if (r.status == 0) {
          ++cut_off;
        } else {
          ++answered;
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  signal_at_ms.store(now_ms());
  const int exit_status = service.process.terminate(30s);
  stop.store(true);
  for (auto& t : clients) t.join();
  std::printf("[sigterm] %d requests answered, %d cut off; exit status %d\n", answered.load(),
              cut_off.load(), exit_status);
  EXPECT_EQ(exit_status, 0);
  EXPECT_EQ(cut_off.load(), 0);
  EXPECT_GT(answered.load(), 0);
  for (const auto& violation : ledger_violations(db, ids)) ADD_FAILURE() << violation;
}

}  // namespace
}  // namespace wallet::test
