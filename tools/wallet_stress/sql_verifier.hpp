// With --database-url: the ledger invariants of SPEC.md section 5 checked in Postgres for the
// run's accounts, in one REPEATABLE READ snapshot (the same SQL as the e2e tests' checks, kept
// here because tools do not link test code), plus the stored balances against the driver's own
// expectation from its 200 answers. Section 7 (several instances): once transfers_in_transit
// exists (migration 007) conservation counts the money in transit, a transfer is its debit and
// (its credit xor its in-transit row), no transfer has two debits or two credits, and after up to
// settle_wait seconds nothing of the run is left in transit. A ledger row names its
// account by account_id (user_id is the account's owner), and the checks above use it once the
// column exists; with --currencies the accounts of every currency are checked too (below).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/invariant.hpp"

namespace wallet::stress {

struct InTransitOptions {
  double settle_wait_seconds = 10;  // how long transfers in transit get to land before the checks
  bool self_check_corrupt = false;  // --self-check-corrupt-in-transit
};

// With --currencies: the run's accounts in several currencies and what the driver knows of
// them (api_verifier's figures, indexed like `extra`). Checked per account and per currency over
// every account of the run (the default ones too): balance >= -overdraft_limit; balance =
// sum(balance_change) of its rows; rows chained per account; closed => balance 0 and no pending
// hold; per currency, balances + in transit = deposits - withdrawals; every row in its account's
// currency; every transfer's rows in one currency; and for the currency accounts the stored
// balance = the driver's expectation = GET /accounts/{id}, the line and status = the driver's.
// With self_check_corrupt (--self-check-corrupt-accounts) one defect per check is planted first in
// private temporary copies of the tables that the checks read (nothing real is written).
struct CurrencyAccountsInput {
  const std::vector<CurrencyAccount>* extra = nullptr;  // null: no accounts checks
  const std::vector<CurrencyInfo>* currencies = nullptr;
  std::vector<int64_t> expected_minor;
  std::vector<std::optional<int64_t>> read_minor;  // GET /accounts/{id}; nullopt: not read
  std::vector<int64_t> expected_line;
  std::vector<std::string> expected_status;
  bool self_check_corrupt = false;
};

std::vector<InvariantResult> verify_in_database(
    const std::string& database_url, const std::vector<Account>& accounts,
    const std::vector<int64_t>& expected_minor, const std::vector<int64_t>& expected_held_minor,
    const InTransitOptions& in_transit, const CurrencyAccountsInput& currency_accounts = {});

// Every account of the database at `database_url` (wallet-ledger-check, the guard of scripts/test):
// the accounts checks above over all of them (the line, balance = its rows, the chain, closed
// accounts, per currency conservation with the money in transit, currencies of rows and
// transfers), and those of the checks by user that hold for any set of accounts (each transfer a
// debit and its credit xor its in-transit row, no doubled leg, captured holds, nothing in transit
// after up to settle_wait_seconds). Reads only.
std::vector<InvariantResult> verify_whole_ledger(const std::string& database_url,
                                                 double settle_wait_seconds);

}  // namespace wallet::stress
