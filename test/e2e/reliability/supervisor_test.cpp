// Self-healing: transaction-service under scripts/supervise (as scripts/up runs it) is sent
// SIGSEGV while clients transfer money with Idempotency-Keys. The crash handler leaves a
// backtrace, the supervisor logs the signal and restarts the service, which serves again within
// 5 s; every keyed transfer settles exactly once (retries replay) and the restart is a metric.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"
#include "test/support/transfer_load.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

pid_t read_pid(const std::string& path) {
  const auto text = read_text(path);
  return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
}

TEST(SupervisorTest, SegfaultUnderKeyedLoadIsServingAgainWithin5sAndLosesNothing) {
  char folder_template[] = "/tmp/wallet-supervisor-XXXXXX";
  const std::string folder = ::mkdtemp(folder_template);
  const int port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  // ServiceProcess runs one binary without arguments: a two-line wrapper gives supervise its own.
  const std::string wrapper = folder + "/run.sh";
  {
    std::ofstream out(wrapper);
    out << "#!/bin/sh\nexec '" << scripts_dir() << "/supervise' transaction-service '" << folder
        << "' -- '" << bin_dir() << "/transaction-service'\n";
  }
  ::chmod(wrapper.c_str(), 0755);
  auto env = private_transaction_service_env(port, "supervisor", {{"WALLET_CRASH_DIR", folder}});
  // If the test fails half-way, ServiceProcess SIGKILLs the supervisor; its service goes too.
  struct ServiceReaper {
    std::string pid_file;
    ~ServiceReaper() {
      if (const pid_t pid = read_pid(pid_file); pid > 0) ::kill(pid, SIGKILL);
    }
  } reaper{folder + "/transaction-service.service.pid"};
  ServiceProcess supervisor(wrapper, env, "transaction-service-supervised");
  supervisor.start();
  ASSERT_TRUE(supervisor.wait_ready(url, 60s)) << supervisor.log_path();
  const pid_t first = read_pid(folder + "/transaction-service.service.pid");
  ASSERT_GT(first, 0);

  pqxx::connection db(transaction_db_url());
  auto ids = create_accounts(db, 8);
  HttpClient client(url);
  for (const auto& id : ids) {
    auto r = client.post("/addMoney", nlohmann::json{{"user_id", id}, {"amount", "500.00"}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  TransferLoad load({url, ids, 8, 120, 20ms, 5s});
  load.start();
  std::this_thread::sleep_for(800ms);
  ASSERT_EQ(::kill(first, SIGSEGV), 0);
  const auto crashed_at = Clock::now();
  // Serving again: /healthz from a new process.
  bool serving = false;
  while (Clock::now() - crashed_at < 20s) {
    const pid_t now = read_pid(folder + "/transaction-service.service.pid");
    if (now > 0 && now != first && HttpClient(url, 1s).get("/healthz").status == 200) {
      serving = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - crashed_at).count();
  std::printf("[supervisor] SIGSEGV to pid %d; serving again after %.2f s\n", first, seconds);
  ASSERT_TRUE(serving) << supervisor.log_path();
  EXPECT_LT(seconds, 5.0);

  ASSERT_TRUE(load.wait(120s)) << "transfers left without a definitive answer";
  long acknowledged = 0, retried = 0;
  for (const auto& transfer : load.results()) {
    ASSERT_TRUE(transfer.final_status == 200 || transfer.final_status == 409) << transfer.key;
    retried += transfer.attempts > 1;
    if (transfer.final_status != 200) continue;
    ++acknowledged;
    const auto id = nlohmann::json::parse(transfer.final_body)["transfer_id"].get<std::string>();
    pqxx::nontransaction txn(db);
    auto rows = txn.exec_params("SELECT count(*) FROM transactions WHERE transfer_id = $1", id);
    EXPECT_EQ(rows[0][0].as<long>(), 2) << id;
  }
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids),
            acknowledged);
  for (const auto& violation : ledger_violations(db, ids)) ADD_FAILURE() << violation;
  std::printf("[supervisor] %zu keyed transfers, %ld acknowledged, %ld needed a retry\n",
              load.results().size(), acknowledged, retried);

  // The evidence: a backtrace from the crash handler and the supervisor's line with the signal.
  const auto crash = read_text(folder + "/transaction-service.crash");
  EXPECT_NE(crash.find("signal=11 (SEGV)"), std::string::npos) << crash;
  EXPECT_NE(crash.find("backtrace"), std::string::npos) << crash;
  const auto log = read_text(supervisor.log_path());
  EXPECT_NE(log.find("event=service_died pid=" + std::to_string(first) + " signal=11 (SEGV)"),
            std::string::npos)
      << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  EXPECT_NE(HttpClient(url).get("/metrics").body.find("wallet_process_restarts 1"),
            std::string::npos);

  // Stopping the supervisor stops the service (no orphan keeps the port).
  const pid_t second = read_pid(folder + "/transaction-service.service.pid");
  EXPECT_EQ(supervisor.terminate(30s), 0);
  EXPECT_NE(::kill(second, 0), 0) << "service pid " << second << " outlived its supervisor";
}

}  // namespace
}  // namespace wallet::test
