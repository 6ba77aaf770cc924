// Account setup before the load: creates users through user-service (or reuses the ids of a
// previous run's JSON), waits until each account exists in transaction-service (the user-created
// event travels through Kafka), reads each starting balance and funds every account once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

struct Account {
  std::string user_id;
  int64_t baseline_minor = 0;  // balance before this run touched it (0 for a new user)
  int64_t funded_minor = 0;    // what this run deposited
  bool reused = false;
};

// With --currencies: a configured currency as GET /currencies lists it.
struct CurrencyInfo {
  std::string code;
  int exponent = 2;
};

// An account beyond the run user's default one, opened by this run through POST
// /accounts. Its amounts are minor units of its currency (10^-exponent).
struct CurrencyAccount {
  std::string account_id;
  std::string user_id;
  size_t owner = 0;     // index of its user's default account in AccountSetup::accounts
  size_t currency = 0;  // index into AccountSetup::currencies
  int exponent = 2;
  int64_t overdraft_minor = 0;  // the line it was opened with
  bool closable = false;        // set aside for close operations; nothing else touches it
  int64_t funded_minor = 0;     // what this run deposited
};

struct AccountSetup {
  std::vector<Account> accounts;
  // With --currencies: the listed currencies and the accounts opened in them, per user
  // and currency in that order: its account for transfers, then (when the mix closes accounts)
  // the one set aside to be closed.
  std::vector<CurrencyInfo> currencies;
  std::vector<CurrencyAccount> extra;
  // With --fee-payments: the service's default currency, the one payments name in their postings.
  std::string payment_currency;
  std::string error;  // non-empty: the run cannot go on
  double seconds = 0;
};

// `cents` (an amount of the default-currency options, 2 decimals) as minor units of a
// currency of `exponent` (the same number of major units; at least 1 minor unit when cents > 0).
int64_t scale_to_currency(int64_t cents, int exponent);

// The currencies `codes` with their exponents, from GET /currencies (in that order), and the
// service's default currency when `default_code` is given; an error text, empty on success.
std::string read_currencies(const StressConfig& config, const std::vector<std::string>& codes,
                            std::vector<CurrencyInfo>& out, std::string* default_code = nullptr);

AccountSetup prepare_accounts(const StressConfig& config, const std::string& run_id);

// The "users" array of a previous run's JSON result.
std::vector<std::string> read_user_ids(const std::string& json_path, std::string& error);

}  // namespace wallet::stress
