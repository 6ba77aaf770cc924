// TransferPlan: the transfers of one run, drawn from the seed before any request is sent, and the
// order in which they are sent: every transfer once, a share of them again with the same
// Idempotency-Key, half right behind the original (so that two workers send them concurrently)
// and half later in the run (a late client retry).
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

// An operation of the mix. Transfers, holds and withdrawals name their accounts
// (a withdrawal only `from`); capture and void name the hold operation they close (each hold is
// closed by at most one of them), and a capture its amount (capture_all: send {} for all of it).
//
// With --currencies: xfer_acct is an account-form transfer between two accounts of one
// currency of two users (`from`, `to` index AccountSetup::extra, the amount is in minor units of
// that currency). overdraft, freeze and close are account operations on AccountSetup::extra[from],
// each a short sequence of requests that load_runner sends and records step by step (they are not
// sent twice): overdraft PATCHes the line to `amount_minor`; freeze freezes the account, probes
// that debits and holds are refused and a credit taken, and opens it again; close tries to close
// the account set aside for it while it holds money, empties it into `to` (its user's account of
// the same currency), closes it and probes that it takes nothing any more.
//
// With --fee-payments every transfer is a payment instead: POST /transactions of two postings in
// the default currency, `from` -> `to` its amount and `from` -> `fee_to` its fee (default
// accounts, indexes into AccountSetup::accounts), answered 201.
enum class OpKind : uint8_t {
  transfer,
  payment,
  hold,
  capture,
  void_hold,
  withdraw,
  xfer_acct,
  overdraft,
  freeze,
  close
};
const char* op_kind_name(OpKind kind);
// The account operations above (a sequence of requests each, not one keyed request).
inline bool is_account_op(OpKind kind) {
  return kind == OpKind::overdraft || kind == OpKind::freeze || kind == OpKind::close;
}
// Operations whose indexes name AccountSetup::extra rather than AccountSetup::accounts.
inline bool on_currency_accounts(OpKind kind) {
  return kind == OpKind::xfer_acct || is_account_op(kind);
}

struct PlannedTransfer {
  uint32_t from = 0;  // index into the accounts
  uint32_t to = 0;
  int64_t amount_minor = 0;
  OpKind kind = OpKind::transfer;
  uint32_t hold_op = 0;  // capture, void: the index of the hold operation
  bool capture_all = false;
  uint32_t fee_to = 0;  // payment: the account its fee goes to (neither `from` nor `to`)
  int64_t fee_minor = 0;
};

// A payment's fee: 1 % of its amount rounded down, at least one minor unit.
inline int64_t payment_fee(int64_t amount_minor) {
  return amount_minor / 100 > 0 ? amount_minor / 100 : 1;
}

enum class SendKind : uint8_t { original, concurrent_duplicate, late_duplicate };

struct Send {
  uint32_t transfer = 0;  // index into TransferPlan::transfers
  SendKind kind = SendKind::original;
};

struct TransferPlan {
  std::string run_id;
  std::vector<PlannedTransfer> transfers;
  std::vector<Send> schedule;
  size_t concurrent_duplicates = 0;
  size_t late_duplicates = 0;

  std::string key(uint32_t transfer) const;
  std::string body(uint32_t transfer, const std::vector<Account>& accounts,
                   const std::vector<CurrencyAccount>& extra = {}) const;
  // The request path; capture and void need the hold's id (from its 201 answer).
  std::string path(uint32_t transfer, const std::string& hold_id) const;
  int64_t hold_timeout_seconds = 3600;
  std::string currency;  // payments: the service's default currency (GET /currencies)
};

// Uniform in [low, high]; std::uniform_int_distribution is not the same on every standard
// library, and a seed should give the same plan everywhere.
uint64_t draw(std::mt19937_64& random, uint64_t low, uint64_t high);

// The send order of keys 0..count-1: every key once, in order, and exactly round(share * count)
// of them (picked from `random`) a second time with the same key: the first half of the picks right
// behind their original (two workers send them concurrently), the rest at least four rounds of all
// workers later (a late client retry). A pick `twice` refuses is dropped, and the counts say what
// was scheduled.
std::vector<Send> schedule_sends(size_t count, double duplicate_share, int concurrency,
                                 std::mt19937_64& random,
                                 const std::function<bool(uint32_t)>& twice,
                                 size_t& concurrent_duplicates, size_t& late_duplicates);

// `extra`: the currency accounts (empty without --currencies).
TransferPlan build_plan(const StressConfig& config, size_t account_count, const std::string& run_id,
                        const std::vector<CurrencyAccount>& extra = {},
                        const std::vector<CurrencyInfo>& currencies = {});

}  // namespace wallet::stress
