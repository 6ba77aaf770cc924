// Private to the API verifier's files (tools/wallet_stress/api_*.cpp): the account reads through
// the public API and the groups of checks verify_through_api runs. Nothing else includes it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/wallet_stress/api_verifier.hpp"
#include "tools/wallet_stress/http_session.hpp"

namespace wallet::stress::api_checks {

constexpr int kHistoryLimit = 1000;  // the most GET /users/{id}/transactions returns
constexpr int kMaxAttempts = 20;

struct HistoryRow {
  std::string kind;
  std::string transfer_id;
  int64_t change = 0, old_balance = 0, new_balance = 0;
};

struct AccountView {
  std::optional<int64_t> balance;
  std::optional<int64_t> available;                // with holds: balance - pending holds
  std::optional<std::vector<HistoryRow>> history;  // newest first
  std::string error;
};

// Reads through the API (api_reads.cpp).
std::optional<int64_t> money_field(const nlohmann::json& object, const char* name);
HttpAnswer get_with_retries(HttpSession& session, const std::string& path);
AccountView read_account(HttpSession& session, const std::string& user_id);
bool is_error(const nlohmann::json& body, const char* code);

// Keys: one outcome each, and that outcome answers the request that was sent. Fills the
// accepted transfer id per key (empty when the key was not accepted). (api_outcome_checks.cpp)
void check_outcomes(const TransferPlan& plan, const std::vector<Account>& accounts,
                    const LoadResult& load, ApiVerification& out,
                    std::vector<std::string>& transfer_ids,
                    const std::vector<CurrencyAccount>& extra,
                    const std::vector<CurrencyInfo>& currencies);

// Each history a gap-free chain holding exactly the accepted operations (api_history_check.cpp).
void check_history(const std::vector<Account>& accounts, const std::vector<AccountView>& views,
                   const TransferPlan& plan, const LoadResult& load,
                   const std::vector<std::string>& transfer_ids, ApiVerification& out);

// The currency accounts (--currencies, api_currency_checks.cpp): an account-form transfer's
// outcome, the account operations step by step, and the accounts once settled.
void check_xfer_acct_outcome(const TransferPlan& plan, const std::vector<CurrencyAccount>& extra,
                             const std::vector<CurrencyInfo>& currencies,
                             const std::vector<bool>& freezes, uint32_t t, const KeyRecord& k,
                             nlohmann::json body, ApiVerification& out, InvariantResult& matches);
void check_account_ops(const StressConfig& config, const TransferPlan& plan,
                       const std::vector<CurrencyAccount>& extra,
                       const std::vector<CurrencyInfo>& currencies, const LoadResult& load,
                       ApiVerification& out, InvariantResult& sequences, InvariantResult& replays);
void check_currency_accounts(const StressConfig& config, const TransferPlan& plan,
                             const std::vector<CurrencyAccount>& extra,
                             const std::vector<CurrencyInfo>& currencies, const LoadResult& load,
                             ApiVerification& out, InvariantResult sequences,
                             InvariantResult replays);

}  // namespace wallet::stress::api_checks
