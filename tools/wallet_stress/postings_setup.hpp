// The accounts of a --postings run: the run users (created through user-service as for every
// mode) with their default account and one account per --currencies currency, and a house user
// holding, per currency (the default one too), a fee account and a liquidity account that
// exchanges go through. Nothing is funded here: the funding is the plan's first transactions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

enum class PostingRole : uint8_t { user, fee, liquidity };

struct PostingAccount {
  std::string account_id;
  size_t user = 0;      // index into PostingsSetup::users
  size_t currency = 0;  // index into PostingsSetup::currencies
  int exponent = 2;
  PostingRole role = PostingRole::user;
  int64_t baseline_minor = 0;  // balance before the run (a default account's, read at setup)
};

struct PostingsSetup {
  std::vector<Account> users;            // the run users, then the house user
  std::vector<CurrencyInfo> currencies;  // the default currency first, then --currencies
  // Per run user, one per currency (currency 0 is its default account, account_id = user_id);
  // then per currency its fee account and its liquidity account (the house user's).
  std::vector<PostingAccount> accounts;
  std::string error;  // non-empty: the run cannot go on
  double seconds = 0;

  size_t run_users() const { return users.empty() ? 0 : users.size() - 1; }
  size_t user_account(size_t user, size_t currency) const {
    return user * currencies.size() + currency;
  }
  size_t fee_account(size_t currency) const {
    return run_users() * currencies.size() + 2 * currency;
  }
  size_t liquidity_account(size_t currency) const { return fee_account(currency) + 1; }
  // The uuid[] literal of every account of the run (the house user's default account too).
  std::string all_ids() const;
};

PostingsSetup prepare_postings_accounts(const StressConfig& config, const std::string& run_id);

}  // namespace wallet::stress
