// Account setup: user creation, the wait for the Kafka hop, starting balances and funding.
#include "tools/wallet_stress/account_setup.hpp"

#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxAttempts = 30;

// Remembers the first failure of a parallel phase.
class FirstError {
 public:
  void set(std::string text) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (text_.empty()) text_ = std::move(text);
  }
  std::string get() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

std::string describe(const HttpAnswer& answer) {
  return answer.status ? std::to_string(answer.status) + " " + answer.body.substr(0, 200)
                       : "no answer (" + answer.error + ")";
}

void create_users(const StressConfig& config, const std::string& run_id,
                  std::vector<Account>& accounts, FirstError& failure) {
  run_parallel(accounts.size(), config.concurrency, config.user_service, config.request_timeout_ms,
               [&](HttpSession& session, size_t i) {
                 const std::string email =
                     "stress-" + run_id + "-" + std::to_string(i) + "@stress.wallet.test";
                 const std::string body = nlohmann::json{{"email", email}}.dump();
                 HttpAnswer answer;
                 for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
                   answer = session.post("/createUser", body, "");
                   // A lost 201 followed by a retry would come back as 409 email_taken, and
                   // user-service cannot tell us the id by email: that user is reported, not used.
                   if (!is_retryable(answer.status)) break;
                   retry_pause(attempt);
                 }
                 auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
                 if (answer.status == 201 && parsed.is_object() && parsed["user_id"].is_string()) {
                   accounts[i].user_id = parsed["user_id"].get<std::string>();
                 } else {
                   failure.set("POST /createUser " + email + ": " + describe(answer));
                 }
               });
}

void wait_for_accounts(const StressConfig& config, std::vector<Account>& accounts,
                       FirstError& failure) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           static_cast<long>(config.account_wait_seconds * 1000));
  run_parallel(accounts.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                 auto& account = accounts[i];
                 HttpAnswer answer;
                 while (true) {
                   answer = session.get("/users/" + account.user_id + "/balance");
                   if (answer.status == 200 || Clock::now() > deadline) break;
                   if (answer.status != 404 && !is_retryable(answer.status)) break;
                   std::this_thread::sleep_for(std::chrono::milliseconds(50));
                 }
                 auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
                 std::optional<int64_t> balance;
                 if (answer.status == 200 && parsed.is_object() && parsed["balance"].is_string()) {
                   balance = domain::parse_minor_units(parsed["balance"].get<std::string>());
                 }
                 if (!balance) {
                   failure.set("account " + account.user_id +
                               " did not appear in transaction-service: " + describe(answer));
                   return;
                 }
                 account.baseline_minor = *balance;
               });
}

void fund_accounts(const StressConfig& config, const std::string& run_id,
                   std::vector<Account>& accounts, FirstError& failure) {
  run_parallel(accounts.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                 auto& account = accounts[i];
                 const std::string key = "stress-" + run_id + "-fund-" + std::to_string(i);
                 const std::string body =
                     nlohmann::json{{"user_id", account.user_id}, {"amount", config.fund}}.dump();
                 HttpAnswer answer;
                 for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
                   answer = session.post("/addMoney", body, key);
                   if (!is_retryable(answer.status)) break;
                   retry_pause(attempt);
                 }
                 if (answer.status != 200) {
                   failure.set("POST /addMoney for " + account.user_id + ": " + describe(answer));
                   return;
                 }
                 account.funded_minor = config.fund_minor;
               });
}

}  // namespace

std::vector<std::string> read_user_ids(const std::string& json_path, std::string& error) {
  std::ifstream file(json_path);
  if (!file) {
    error = "cannot read " + json_path;
    return {};
  }
  auto parsed = nlohmann::json::parse(file, nullptr, false);
  std::vector<std::string> ids;
  if (!parsed.is_object() || !parsed["users"].is_array()) {
    error = json_path + " has no \"users\" array (is it a wallet-stress --json result?)";
    return {};
  }
  for (const auto& id : parsed["users"]) {
    auto normalized = id.is_string() ? domain::normalize_uuid(id.get<std::string>()) : std::nullopt;
    if (!normalized) {
      error = json_path + ": \"users\" holds something that is not a UUID";
      return {};
    }
    ids.push_back(*normalized);
  }
  if (ids.size() < 2) error = json_path + ": at least two users are needed";
  return ids;
}

AccountSetup prepare_accounts(const StressConfig& config, const std::string& run_id) {
  AccountSetup setup;
  const auto started = Clock::now();
  FirstError failure;
  if (!config.reuse_users.empty()) {
    auto ids = read_user_ids(config.reuse_users, setup.error);
    if (!setup.error.empty()) return setup;
    for (auto& id : ids) setup.accounts.push_back(Account{std::move(id), 0, 0, true});
    note(config.quiet,
         "reusing " + std::to_string(setup.accounts.size()) + " users from " + config.reuse_users);
  } else {
    setup.accounts.resize(static_cast<size_t>(config.users));
    note(config.quiet, "creating " + std::to_string(config.users) + " users through user-service");
    create_users(config, run_id, setup.accounts, failure);
    if (!(setup.error = failure.get()).empty()) return setup;
  }
  note(config.quiet, "waiting for the accounts in transaction-service");
  wait_for_accounts(config, setup.accounts, failure);
  if (!(setup.error = failure.get()).empty()) return setup;
  if (config.fund_minor > 0) {
    note(config.quiet, "funding every account with " + config.fund);
    fund_accounts(config, run_id, setup.accounts, failure);
    setup.error = failure.get();
  }
  setup.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return setup;
}

}  // namespace wallet::stress
