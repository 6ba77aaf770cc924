// StressConfig: what one wallet-stress run does, as given on the command line (main.cpp parses
// it); also written into the JSON result so that a run can be repeated.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/wallet_stress/postings_config.hpp"

namespace wallet::stress {

struct StressConfig {
  std::string user_service = "http://127.0.0.1:8080";
  // Every transaction-service instance (--transaction-service repeated or comma-separated); the
  // load is spread over them. transaction_service is the first.
  std::vector<std::string> transaction_services{"http://127.0.0.1:8081"};
  std::string transaction_service = "http://127.0.0.1:8081";
  int users = 100;
  std::string reuse_users;  // path of a previous run's JSON; empty: create `users` new users
  std::string fund = "1000.00";
  int64_t fund_minor = 100'000;
  int64_t transfers = 10'000;
  int concurrency = 32;
  double duplicate_share = 0.25;
  double hot_share = 0.0;
  std::string min_amount = "1.00";
  std::string max_amount = "100.00";
  int64_t min_amount_minor = 100;
  int64_t max_amount_minor = 10'000;
  uint64_t seed = 1;
  double duration_limit = 0;  // seconds; 0: no limit
  double rate = 0;            // sends per second, paced; 0: as fast as the workers go
  // --bulk N: the schedule goes out N sends at a time through POST /transactions/bulk (each
  // operation with its own key); captures, voids and account operations still go alone. 0: off.
  int bulk = 0;
  std::string database_url;   // empty: API checks only
  std::string kafka_brokers;  // empty: the ledger-events stream is not checked
  std::string ledger_events_topic = "ledger-events";
  double event_wait_seconds = 30;  // how long the stream gets to add up after the load
  std::string json_path;
  std::string html_path;
  bool quiet = false;
  bool self_check_corrupt = false;
  bool self_check_corrupt_holds = false;  // miscount one account's pending holds
  // Plant, in a private copy the SQL checks read, an in-transit row for a settled transfer and a
  // second debit for another: the in-transit checks must then fail.
  bool self_check_corrupt_in_transit = false;
  // Seconds cross-owner transfers still in transit get to land (credit committed, in-transit row
  // gone) before the balance checks and the "nothing in transit at rest" check fail.
  double settle_wait_seconds = 10;
  long request_timeout_ms = 30'000;
  double account_wait_seconds = 60;  // how long user-created events get to reach the ledger
  // The operation mix, as weights (--mix transfer=70,hold=15,capture=10,void=5,withdraw=5).
  std::string mix = "transfer=100";
  int mix_transfer = 100, mix_hold = 0, mix_capture = 0, mix_void = 0, mix_withdraw = 0;
  int64_t hold_timeout_seconds = 3600;  // holds of the run (long: none expires during a run)
  // With --currencies EUR,JPY each run user also opens one account per listed currency
  // (every other one with an overdraft line) and, when the mix closes accounts, one more per
  // currency that only a close touches. Empty: no accounts beyond the default ones.
  std::vector<std::string> currencies;
  // Mix weights with --currencies: account-form transfers between accounts of one currency of two
  // users, overdraft lines set or lowered, freeze-then-unfreeze, close (of an account emptied
  // first).
  int mix_xfer_acct = 0, mix_overdraft = 0, mix_freeze = 0, mix_close = 0;
  // Plant one defect per accounts check in private copies the SQL checks read, and miscount the
  // driver's own record of one account: every accounts check must then fail.
  bool self_check_corrupt_accounts = false;

  // --postings: transactions of many postings and their reversals (postings_run.hpp) instead of
  // the transfer modes; the accounts are in the default currency and `currencies`.
  PostingsOptions postings;

  // --fee-payments: every transfer of the plan is sent as a payment with a fee instead, POST
  // /transactions of two postings from its payer: payer->payee its amount and payer->a third
  // account (drawn per payment, uniform over the others) 1 % of it, at least one minor unit.
  bool fee_payments = false;

  bool accounts_mode() const { return !currencies.empty(); }
};

// Parses --mix into the weights; an error text, empty when it is valid.
inline std::string parse_mix(StressConfig& c) {
  c.mix_transfer = c.mix_hold = c.mix_capture = c.mix_void = c.mix_withdraw = 0;
  c.mix_xfer_acct = c.mix_overdraft = c.mix_freeze = c.mix_close = 0;
  size_t start = 0;
  int total = 0;
  while (start <= c.mix.size()) {
    const size_t end = std::min(c.mix.find(',', start), c.mix.size());
    const std::string item = c.mix.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return "--mix items are kind=weight";
    const std::string kind = item.substr(0, eq);
    const std::string digits = item.substr(eq + 1);
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return "--mix weight of " + kind + " must be a whole number";
    }
    const int weight = std::stoi(digits);
    int* slot = kind == "transfer"    ? &c.mix_transfer
                : kind == "hold"      ? &c.mix_hold
                : kind == "capture"   ? &c.mix_capture
                : kind == "void"      ? &c.mix_void
                : kind == "withdraw"  ? &c.mix_withdraw
                : kind == "xfer_acct" ? &c.mix_xfer_acct
                : kind == "overdraft" ? &c.mix_overdraft
                : kind == "freeze"    ? &c.mix_freeze
                : kind == "close"     ? &c.mix_close
                                      : nullptr;
    if (!slot) {
      return "--mix kinds are transfer, hold, capture, void, withdraw, and with --currencies "
             "xfer_acct, overdraft, freeze, close";
    }
    *slot = weight;
    total += weight;
    start = end + 1;
  }
  if (total <= 0) return "--mix weights must not all be 0";
  if ((c.mix_capture > 0 || c.mix_void > 0) && c.mix_hold == 0) {
    return "--mix capture and void need hold > 0";
  }
  if (c.mix_xfer_acct + c.mix_overdraft + c.mix_freeze + c.mix_close > 0 && c.currencies.empty()) {
    return "--mix xfer_acct, overdraft, freeze and close need --currencies";
  }
  if (c.self_check_corrupt_accounts && c.currencies.empty()) {
    return "--self-check-corrupt-accounts needs --currencies";
  }
  return "";
}

// --fee-payments turns the plain transfers of the user-id mode into payments with a fee: nothing
// else. An error text, empty when the combination makes sense (after parse_mix).
inline std::string check_fee_payments(const StressConfig& c) {
  if (!c.fee_payments) return "";
  if (c.postings.enabled) return "--fee-payments and --postings are two different loads";
  if (c.mix_hold + c.mix_capture + c.mix_void + c.mix_withdraw + c.mix_xfer_acct + c.mix_overdraft +
          c.mix_freeze + c.mix_close >
      0) {
    return "--fee-payments turns transfers into payments: --mix must be transfers only";
  }
  if (!c.currencies.empty()) return "--fee-payments pays between default accounts: no --currencies";
  if (c.reuse_users.empty() && c.users < 3) {
    return "--fee-payments needs --users 3 or more (payer, payee and a fee account)";
  }
  if (c.self_check_corrupt_in_transit) {
    return "--self-check-corrupt-in-transit corrupts transfers: a --fee-payments run has none";
  }
  return "";
}

// --bulk: 2..1000 operations per request, for the loads of the schedule (not --postings, which
// runs its own). An error text, empty when it makes sense.
inline std::string check_bulk(const StressConfig& c) {
  if (c.bulk == 0) return "";
  if (c.bulk < 2 || c.bulk > 1000) return "--bulk takes 2 to 1000 operations per request";
  if (c.postings.enabled) return "--bulk sends the schedule's operations: not with --postings";
  return "";
}

inline nlohmann::json to_json(const StressConfig& c) {
  nlohmann::json out = {{"user_service", c.user_service},
                        {"transaction_service", c.transaction_service},
                        {"transaction_services", c.transaction_services},
                        {"users", c.users},
                        {"reuse_users", c.reuse_users},
                        {"fund", c.fund},
                        {"transfers", c.transfers},
                        {"concurrency", c.concurrency},
                        {"duplicate_share", c.duplicate_share},
                        {"hot_share", c.hot_share},
                        {"min_amount", c.min_amount},
                        {"max_amount", c.max_amount},
                        {"seed", c.seed},
                        {"duration_limit", c.duration_limit},
                        {"rate", c.rate},
                        {"database_checks", !c.database_url.empty()},
                        {"event_checks", !c.kafka_brokers.empty()},
                        {"self_check_corrupt", c.self_check_corrupt},
                        {"self_check_corrupt_in_transit", c.self_check_corrupt_in_transit},
                        {"settle_wait", c.settle_wait_seconds},
                        {"request_timeout_ms", c.request_timeout_ms},
                        {"mix", c.mix}};
  // Only when used, so that the result of a run without it is what it was.
  if (c.accounts_mode()) {
    out["currencies"] = c.currencies;
    out["self_check_corrupt_accounts"] = c.self_check_corrupt_accounts;
  }
  if (c.fee_payments) out["fee_payments"] = true;
  if (c.bulk) out["bulk"] = c.bulk;
  if (c.postings.enabled) {
    out["postings"] = {{"mix", c.postings.mix},
                       {"self_check_postings", c.postings.self_checks},
                       {"api_sample", c.postings.api_sample}};
  }
  return out;
}

}  // namespace wallet::stress
