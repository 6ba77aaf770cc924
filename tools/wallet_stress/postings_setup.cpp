// The accounts of a --postings run: users through user-service, then POST /accounts (keyed, so
// that a retry after a lost answer opens no second account).
#include "tools/wallet_stress/postings_setup.hpp"

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

constexpr int kMaxAttempts = 30;

// The default currency first, then --currencies (which must not list it again).
std::string read_run_currencies(const StressConfig& config, std::vector<CurrencyInfo>& out) {
  std::vector<CurrencyInfo> none;
  std::string default_code;
  std::string error = read_currencies(config, {}, none, &default_code);
  if (!error.empty()) return error;
  std::vector<std::string> codes{default_code};
  for (const auto& code : config.currencies) {
    if (code == default_code) {
      return "--currencies lists " + code +
             ", the default currency (every user's default account holds it already)";
    }
    codes.push_back(code);
  }
  return read_currencies(config, codes, out);
}

// Every account but the default ones, each opened with POST /accounts.
void open_accounts(const StressConfig& config, const std::string& run_id, PostingsSetup& setup) {
  std::mutex mutex;
  std::string first_error;
  run_parallel(setup.accounts.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                 auto& a = setup.accounts[i];
                 if (a.role == PostingRole::user && a.currency == 0) return;  // its default account
                 const auto& currency = setup.currencies[a.currency];
                 const char* role = a.role == PostingRole::fee         ? "fee"
                                    : a.role == PostingRole::liquidity ? "liquidity"
                                                                       : "user";
                 const std::string user_id = setup.users[a.user].user_id;
                 const std::string body =
                     nlohmann::json{{"user_id", user_id},
                                    {"currency", currency.code},
                                    {"metadata", {{"stress_run", run_id}, {"role", role}}}}
                         .dump();
                 const std::string key = "stress-" + run_id + "-open-" + std::to_string(i);
                 HttpAnswer answer;
                 for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
                   answer = session.post("/accounts", body, key);
                   if (!is_retryable(answer.status)) break;
                   retry_pause(attempt);
                 }
                 auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
                 if (answer.status == 201 && parsed.is_object() &&
                     parsed["account_id"].is_string() && parsed["currency"] == currency.code &&
                     parsed["user_id"] == user_id &&
                     parsed["balance"] == domain::format_minor(0, a.exponent)) {
                   a.account_id = parsed["account_id"].get<std::string>();
                   return;
                 }
                 std::lock_guard<std::mutex> lock(mutex);
                 if (first_error.empty()) {
                   first_error = "POST /accounts " + currency.code + " for " + user_id + ": " +
                                 std::to_string(answer.status) + " " + answer.body.substr(0, 200);
                 }
               });
  setup.error = first_error;
}

}  // namespace

std::string PostingsSetup::all_ids() const {
  std::string out = "{";
  for (size_t a = 0; a < accounts.size(); ++a) out += (a ? "," : "") + accounts[a].account_id;
  if (!users.empty()) out += "," + users.back().user_id;  // the house user's default account
  return out + "}";
}

PostingsSetup prepare_postings_accounts(const StressConfig& config, const std::string& run_id) {
  PostingsSetup setup;
  const auto started = std::chrono::steady_clock::now();
  if (!(setup.error = read_run_currencies(config, setup.currencies)).empty()) return setup;
  // The users (and the house user) with their default accounts, unfunded: the plan funds them.
  StressConfig users_config = config;
  users_config.users = config.users + 1;
  users_config.fund = "0";
  users_config.fund_minor = 0;
  users_config.currencies.clear();
  auto users = prepare_accounts(users_config, run_id);
  setup.users = std::move(users.accounts);
  if (!users.error.empty()) {
    setup.error = users.error;
    return setup;
  }
  for (size_t u = 0; u < setup.run_users(); ++u) {
    for (size_t c = 0; c < setup.currencies.size(); ++c) {
      PostingAccount a;
      a.user = u;
      a.currency = c;
      a.exponent = setup.currencies[c].exponent;
      if (c == 0) {
        a.account_id = setup.users[u].user_id;
        a.baseline_minor = setup.users[u].baseline_minor;
      }
      setup.accounts.push_back(a);
    }
  }
  const size_t house = setup.run_users();
  for (size_t c = 0; c < setup.currencies.size(); ++c) {
    for (auto role : {PostingRole::fee, PostingRole::liquidity}) {
      PostingAccount a;
      a.user = house;
      a.currency = c;
      a.exponent = setup.currencies[c].exponent;
      a.role = role;
      setup.accounts.push_back(a);
    }
  }
  note(config.quiet, "opening " + std::to_string(setup.accounts.size() - setup.run_users()) +
                         " accounts in " + std::to_string(setup.currencies.size()) +
                         " currencies (fee and liquidity accounts included)");
  open_accounts(config, run_id, setup);
  setup.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return setup;
}

}  // namespace wallet::stress
