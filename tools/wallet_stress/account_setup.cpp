// Account setup: user creation, the wait for the Kafka hop, starting balances and funding.
#include "tools/wallet_stress/account_setup.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/currency.hpp"
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

// Per user and currency an account for transfers (every other user's with an overdraft
// line of half the funding) and, when the mix closes accounts, one more set aside to be closed.
void plan_currency_accounts(const StressConfig& config, AccountSetup& setup) {
  for (size_t u = 0; u < setup.accounts.size(); ++u) {
    for (size_t c = 0; c < setup.currencies.size(); ++c) {
      CurrencyAccount a;
      a.user_id = setup.accounts[u].user_id;
      a.owner = u;
      a.currency = c;
      a.exponent = setup.currencies[c].exponent;
      const int64_t fund = scale_to_currency(config.fund_minor, a.exponent);
      a.overdraft_minor = u % 2 == 1 ? fund / 2 : 0;
      setup.extra.push_back(a);
      if (config.mix_close > 0) {
        CurrencyAccount closable = a;
        closable.overdraft_minor = 0;
        closable.closable = true;
        setup.extra.push_back(closable);
      }
    }
  }
}

void open_currency_accounts(const StressConfig& config, const std::string& run_id,
                            AccountSetup& setup, FirstError& failure) {
  auto& extra = setup.extra;
  run_parallel(
      extra.size(), config.concurrency, config.transaction_services, config.request_timeout_ms,
      [&](HttpSession& session, size_t i) {
        auto& a = extra[i];
        const auto& currency = setup.currencies[a.currency];
        nlohmann::json request{{"user_id", a.user_id},
                               {"currency", currency.code},
                               {"metadata", {{"stress_run", run_id}}}};
        if (a.overdraft_minor > 0) {
          request["overdraft_limit"] = domain::format_minor(a.overdraft_minor, a.exponent);
        }
        // Keyed, so that a retry after a lost answer opens no second account.
        const std::string key = "stress-" + run_id + "-open-" + std::to_string(i);
        HttpAnswer answer;
        for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
          answer = session.post("/accounts", request.dump(), key);
          if (!is_retryable(answer.status)) break;
          retry_pause(attempt);
        }
        auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
        const std::string line = domain::format_minor(a.overdraft_minor, a.exponent);
        if (answer.status != 201 || !parsed.is_object() || !parsed["account_id"].is_string() ||
            parsed["currency"] != currency.code || parsed["user_id"] != a.user_id ||
            parsed["status"] != "open" || parsed["overdraft_limit"] != line ||
            parsed["balance"] != domain::format_minor(0, a.exponent)) {
          failure.set("POST /accounts " + currency.code + " for " + a.user_id + ": " +
                      describe(answer));
          return;
        }
        a.account_id = parsed["account_id"].get<std::string>();
        const int64_t fund = scale_to_currency(config.fund_minor, a.exponent);
        if (fund == 0) return;
        const std::string fund_key = "stress-" + run_id + "-fund-acct-" + std::to_string(i);
        const std::string body = nlohmann::json{{"account_id", a.account_id},
                                                {"amount", domain::format_minor(fund, a.exponent)}}
                                     .dump();
        for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
          answer = session.post("/addMoney", body, fund_key);
          if (!is_retryable(answer.status)) break;
          retry_pause(attempt);
        }
        parsed = nlohmann::json::parse(answer.body, nullptr, false);
        if (answer.status != 200 || !parsed.is_object() || parsed["account_id"] != a.account_id ||
            parsed["currency"] != currency.code) {
          failure.set("POST /addMoney for account " + a.account_id + ": " + describe(answer));
          return;
        }
        a.funded_minor = fund;
      });
}

}  // namespace

std::string read_currencies(const StressConfig& config, const std::vector<std::string>& codes,
                            std::vector<CurrencyInfo>& out, std::string* default_code) {
  HttpSession session(config.transaction_service, config.request_timeout_ms);
  HttpAnswer answer;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    answer = session.get("/currencies");
    if (!is_retryable(answer.status)) break;
    retry_pause(attempt);
  }
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || !parsed.is_object() || !parsed["currencies"].is_array()) {
    return "GET /currencies: " + describe(answer);
  }
  if (default_code) {
    *default_code =
        parsed["default_currency"].is_string() ? parsed["default_currency"].get<std::string>() : "";
    if (default_code->empty()) return "GET /currencies names no default_currency";
  }
  for (const auto& code : codes) {
    const CurrencyInfo* found = nullptr;
    CurrencyInfo info;
    for (const auto& c : parsed["currencies"]) {
      if (c.is_object() && c["code"] == code && c["exponent"].is_number_integer()) {
        info = {code, c["exponent"].get<int>()};
        found = &info;
      }
    }
    if (!found || info.exponent < 0 || info.exponent > 6) {
      return "--currencies: " + code +
             " is not a currency of transaction-service (GET "
             "/currencies: " +
             answer.body.substr(0, 200) + ")";
    }
    for (const auto& known : out) {
      if (known.code == code) return "--currencies lists " + code + " twice";
    }
    out.push_back(info);
  }
  return "";
}

int64_t scale_to_currency(int64_t cents, int exponent) {
  if (cents <= 0) return 0;
  const int64_t scaled =
      exponent >= 2 ? cents * domain::pow10(exponent - 2) : cents / domain::pow10(2 - exponent);
  return std::max<int64_t>(scaled, 1);
}

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
  if (config.fee_payments) {
    if (setup.accounts.size() < 3) {
      setup.error = "--fee-payments needs 3 users or more (payer, payee and a fee account)";
      return setup;
    }
    // The postings name the default currency; the driver's amounts are in cents.
    std::vector<CurrencyInfo> found;
    setup.error = read_currencies(config, {}, found, &setup.payment_currency);
    if (setup.error.empty()) setup.error = read_currencies(config, {setup.payment_currency}, found);
    if (setup.error.empty() && found.front().exponent != 2) {
      setup.error = "--fee-payments needs a default currency of 2 decimals, " +
                    setup.payment_currency + " has " + std::to_string(found.front().exponent);
    }
    if (!setup.error.empty()) return setup;
  }
  note(config.quiet, "waiting for the accounts in transaction-service");
  wait_for_accounts(config, setup.accounts, failure);
  if (!(setup.error = failure.get()).empty()) return setup;
  if (config.fund_minor > 0) {
    note(config.quiet, "funding every account with " + config.fund);
    fund_accounts(config, run_id, setup.accounts, failure);
    if (!(setup.error = failure.get()).empty()) return setup;
  }
  if (config.accounts_mode()) {
    if (!(setup.error = read_currencies(config, config.currencies, setup.currencies)).empty())
      return setup;
    plan_currency_accounts(config, setup);
    note(config.quiet, "opening and funding " + std::to_string(setup.extra.size()) +
                           " accounts in " + std::to_string(setup.currencies.size()) +
                           " currencies");
    open_currency_accounts(config, run_id, setup, failure);
    setup.error = failure.get();
  }
  setup.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return setup;
}

}  // namespace wallet::stress
