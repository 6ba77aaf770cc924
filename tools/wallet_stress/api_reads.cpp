// The API verifier's reads: a user's balance and history through the public API, retried while
// the answer is retryable, and the error code of an answer.
#include "domain/money.hpp"
#include "tools/wallet_stress/api_verifier_internal.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress::api_checks {

std::optional<int64_t> money_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string())
    return std::nullopt;
  return domain::parse_minor_units(object[name].get<std::string>());
}

HttpAnswer get_with_retries(HttpSession& session, const std::string& path) {
  HttpAnswer answer;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    answer = session.get(path);
    if (!is_retryable(answer.status)) break;
    retry_pause(attempt);
  }
  return answer;
}

AccountView read_account(HttpSession& session, const std::string& user_id) {
  AccountView view;
  auto balance = get_with_retries(session, "/users/" + user_id + "/balance");
  const auto balance_json = nlohmann::json::parse(balance.body, nullptr, false);
  view.balance = money_field(balance_json, "balance");
  view.available = money_field(balance_json, "available_balance");
  if (balance.status != 200 || !view.balance) {
    view.balance.reset();
    view.error =
        "GET balance: " + std::to_string(balance.status) + " " + balance.body.substr(0, 200);
    return view;
  }
  auto answer = get_with_retries(
      session, "/users/" + user_id + "/transactions?limit=" + std::to_string(kHistoryLimit));
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || !parsed.is_object() || !parsed["transactions"].is_array()) {
    view.error =
        "GET transactions: " + std::to_string(answer.status) + " " + answer.body.substr(0, 200);
    return view;
  }
  std::vector<HistoryRow> rows;
  for (const auto& item : parsed["transactions"]) {
    auto change = money_field(item, "balance_change");
    auto old_balance = money_field(item, "old_balance");
    auto new_balance = money_field(item, "new_balance");
    if (!change || !old_balance || !new_balance || !item["kind"].is_string()) {
      view.error = "GET transactions: a row without kind or money fields: " + item.dump();
      return view;
    }
    rows.push_back({item["kind"].get<std::string>(),
                    item["transfer_id"].is_string() ? item["transfer_id"].get<std::string>() : "",
                    *change, *old_balance, *new_balance});
  }
  view.history = std::move(rows);
  return view;
}

bool is_error(const nlohmann::json& body, const char* code) {
  return body.is_object() && body.contains("error") && body["error"].is_object() &&
         body["error"].contains("code") && body["error"]["code"] == code;
}

}  // namespace wallet::stress::api_checks
