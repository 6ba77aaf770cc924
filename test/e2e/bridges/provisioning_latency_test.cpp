// How long a new user waits for its account: createUser answered -> transaction-service answers
// the balance, over PROVISION_USERS users (default 200) created by 4 clients at once. Prints the
// percentiles; fails only when an account does not appear within 10 s.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "test/e2e/bridges/user_flows.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * (values.size() - 1))];
}

TEST(ProvisioningLatencyTest, CreateUserToAccountLatency) {
  const int total = std::max(1, std::stoi(env_or("PROVISION_USERS", "200")));
  HttpClient users(user_service_url());
  HttpClient ledger(transaction_service_url());
  std::vector<double> latencies_ms;
  std::mutex mutex;
  std::atomic<int> next{0};
  std::atomic<int> missing{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (next.fetch_add(1) < total) {
        auto created = create_user(users, unique_email("latency"));
        const auto answered = Clock::now();
        if (created.status != 201) {
          ++missing;
          ADD_FAILURE() << "createUser answered " << created.status << " " << created.body;
          continue;
        }
        if (!wait_for_account(ledger, created.json()["user_id"], 10s, 2ms)) {
          ++missing;
          ADD_FAILURE() << "no account within 10 s for " << created.body;
          continue;
        }
        const double ms =
            std::chrono::duration<double, std::milli>(Clock::now() - answered).count();
        std::lock_guard<std::mutex> lock(mutex);
        latencies_ms.push_back(ms);
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(missing.load(), 0);
  ASSERT_FALSE(latencies_ms.empty());
  std::printf(
      "provisioning latency (createUser 201 -> account answers), %zu users, 4 clients: "
      "p50=%.1f ms p90=%.1f ms p99=%.1f ms max=%.1f ms\n",
      latencies_ms.size(), percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.9),
      percentile(latencies_ms, 0.99), percentile(latencies_ms, 1.0));
}

}  // namespace
}  // namespace wallet::test
