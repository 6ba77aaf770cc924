// TransferPlan: seeded choice of accounts and amounts, and the send order with duplicates.
#include "tools/wallet_stress/transfer_plan.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "domain/currency.hpp"
#include "domain/money.hpp"

namespace wallet::stress {
uint64_t draw(std::mt19937_64& random, uint64_t low, uint64_t high) {
  return low + random() % (high - low + 1);
}

std::string TransferPlan::key(uint32_t transfer) const {
  return "stress-" + run_id + "-t" + std::to_string(transfer);
}

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::transfer:
      return "transfer";
    case OpKind::payment:
      return "payment";
    case OpKind::hold:
      return "hold";
    case OpKind::capture:
      return "capture";
    case OpKind::void_hold:
      return "void";
    case OpKind::withdraw:
      return "withdraw";
    case OpKind::xfer_acct:
      return "xfer_acct";
    case OpKind::overdraft:
      return "overdraft";
    case OpKind::freeze:
      return "freeze";
    case OpKind::close:
      return "close";
  }
  return "transfer";
}

std::string TransferPlan::path(uint32_t transfer, const std::string& hold_id) const {
  switch (transfers[transfer].kind) {
    case OpKind::transfer:
    case OpKind::xfer_acct:
      return "/transferMoney";
    case OpKind::overdraft:
    case OpKind::freeze:
    case OpKind::close:
      return "/accounts";  // a sequence of requests: load_runner sends them
    case OpKind::hold:
      return "/holds";
    case OpKind::capture:
      return "/holds/" + hold_id + "/capture";
    case OpKind::void_hold:
      return "/holds/" + hold_id + "/void";
    case OpKind::withdraw:
      return "/withdrawMoney";
    case OpKind::payment:
      return "/transactions";
  }
  return "/transferMoney";
}

std::string TransferPlan::body(uint32_t transfer, const std::vector<Account>& accounts,
                               const std::vector<CurrencyAccount>& extra) const {
  const auto& t = transfers[transfer];
  const std::string amount = domain::format_minor_units(t.amount_minor);
  switch (t.kind) {
    case OpKind::transfer:
      break;
    case OpKind::xfer_acct:
      return nlohmann::json{
          {"from_account_id", extra[t.from].account_id},
          {"to_account_id", extra[t.to].account_id},
          {"amount", domain::format_minor(t.amount_minor, extra[t.from].exponent)}}
          .dump();
    case OpKind::overdraft:
      return nlohmann::json{
          {"overdraft_limit", domain::format_minor(t.amount_minor, extra[t.from].exponent)}}
          .dump();
    case OpKind::freeze:
    case OpKind::close:
      return "{}";
    case OpKind::hold:
      return nlohmann::json{{"from_user_id", accounts[t.from].user_id},
                            {"to_user_id", accounts[t.to].user_id},
                            {"amount", amount},
                            {"timeout_seconds", hold_timeout_seconds}}
          .dump();
    case OpKind::capture:
      return t.capture_all ? "{}" : nlohmann::json{{"amount", amount}}.dump();
    case OpKind::void_hold:
      return "{}";
    case OpKind::withdraw:
      return nlohmann::json{{"user_id", accounts[t.from].user_id}, {"amount", amount}}.dump();
    case OpKind::payment: {
      // A default account's id is its user's id.
      auto posting = [&](uint32_t to, int64_t minor) {
        return nlohmann::json{{"from", accounts[t.from].user_id},
                              {"to", accounts[to].user_id},
                              {"amount", domain::format_minor_units(minor)},
                              {"currency", currency}};
      };
      return nlohmann::json{
          {"postings", {posting(t.to, t.amount_minor), posting(t.fee_to, t.fee_minor)}}}
          .dump();
    }
  }
  return nlohmann::json{{"from_user_id", accounts[t.from].user_id},
                        {"to_user_id", accounts[t.to].user_id},
                        {"amount_to_transfer", domain::format_minor_units(t.amount_minor)}}
      .dump();
}

TransferPlan build_plan(const StressConfig& config, size_t account_count, const std::string& run_id,
                        const std::vector<CurrencyAccount>& extra,
                        const std::vector<CurrencyInfo>& currencies) {
  TransferPlan plan;
  plan.run_id = run_id;
  std::mt19937_64 random(config.seed);
  const auto count = static_cast<size_t>(config.transfers);
  const auto accounts = static_cast<uint64_t>(account_count);
  // Probabilities are compared in millionths, again for the same plan on every platform.
  const auto hot_millionths = static_cast<uint64_t>(std::llround(config.hot_share * 1e6));

  plan.hold_timeout_seconds = config.hold_timeout_seconds;
  const uint64_t weights =
      static_cast<uint64_t>(config.mix_transfer + config.mix_hold + config.mix_capture +
                            config.mix_void + config.mix_withdraw + config.mix_xfer_acct +
                            config.mix_overdraft + config.mix_freeze + config.mix_close);
  // The currency accounts for transfers, per currency, and those set aside to close.
  std::vector<std::vector<uint32_t>> by_currency(currencies.size());
  std::vector<uint32_t> transferring, closable;
  for (size_t a = 0; a < extra.size(); ++a) {
    (extra[a].closable ? closable : transferring).push_back(static_cast<uint32_t>(a));
    if (!extra[a].closable) by_currency[extra[a].currency].push_back(static_cast<uint32_t>(a));
  }
  size_t next_closable = 0;
  // An account-form transfer: two accounts of one currency (of two users), an amount of it.
  auto draw_xfer_acct = [&](PlannedTransfer& t) {
    const auto& group = by_currency[draw(random, 0, by_currency.size() - 1)];
    const uint64_t n = group.size();
    const auto from = draw(random, 0, n - 1);
    t.from = group[from];
    t.to = group[(from + draw(random, 1, n - 1)) % n];
    const int e = extra[t.from].exponent;
    t.amount_minor = static_cast<int64_t>(
        draw(random, static_cast<uint64_t>(scale_to_currency(config.min_amount_minor, e)),
             static_cast<uint64_t>(scale_to_currency(config.max_amount_minor, e))));
  };
  const bool mixed = static_cast<uint64_t>(config.mix_transfer) != weights;
  // Fee accounts come from a stream of their own, so that a --fee-payments run has the payers,
  // payees, amounts and send order of the plain transfer run of the same seed.
  std::mt19937_64 fee_random(config.seed ^ 0x9e3779b97f4a7c15ULL);
  auto make_payment = [&](PlannedTransfer& t) {
    // Uniform over the accounts but the two of the payment (at least three: check_fee_payments,
    // prepare_accounts).
    auto fee = static_cast<uint32_t>(draw(fee_random, 0, accounts - 3));
    const uint32_t low = std::min(t.from, t.to), high = std::max(t.from, t.to);
    if (fee >= low) ++fee;
    if (fee >= high) ++fee;
    t.kind = OpKind::payment;
    t.fee_to = fee;
    t.fee_minor = payment_fee(t.amount_minor);
  };
  // Holds not yet given a capture or void; a close picks one at least `close_gap` operations
  // back, so that the hold has normally been answered when the close is sent.
  std::vector<uint32_t> open_holds;
  const size_t close_gap = static_cast<size_t>(std::max(config.concurrency, 1)) * 2;
  plan.transfers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    PlannedTransfer t;
    if (mixed) {
      // Drawn only for a mix, so that a plain transfer run keeps the plans of earlier versions.
      uint64_t pick = draw(random, 0, weights - 1);
      auto take = [&pick](int weight) {
        if (pick < static_cast<uint64_t>(weight)) return true;
        pick -= static_cast<uint64_t>(weight);
        return false;
      };
      t.kind = take(config.mix_transfer)    ? OpKind::transfer
               : take(config.mix_hold)      ? OpKind::hold
               : take(config.mix_capture)   ? OpKind::capture
               : take(config.mix_void)      ? OpKind::void_hold
               : take(config.mix_withdraw)  ? OpKind::withdraw
               : take(config.mix_xfer_acct) ? OpKind::xfer_acct
               : take(config.mix_overdraft) ? OpKind::overdraft
               : take(config.mix_freeze)    ? OpKind::freeze
                                            : OpKind::close;
      if (on_currency_accounts(t.kind)) {
        if (t.kind == OpKind::close && next_closable >= closable.size()) {
          t.kind = OpKind::xfer_acct;  // every account set aside is closed already
        }
        switch (t.kind) {
          case OpKind::overdraft: {
            // A line from 0 to the account's funding: raised, or lowered (maybe below its debt).
            t.from = transferring[draw(random, 0, transferring.size() - 1)];
            const auto fund = scale_to_currency(config.fund_minor, extra[t.from].exponent);
            t.amount_minor = static_cast<int64_t>(draw(random, 0, static_cast<uint64_t>(fund)));
            break;
          }
          case OpKind::freeze:
            t.from = transferring[draw(random, 0, transferring.size() - 1)];
            break;
          case OpKind::close: {
            t.from = closable[next_closable++];
            // Emptied into its user's account of the same currency.
            for (uint32_t a : transferring) {
              if (extra[a].owner == extra[t.from].owner &&
                  extra[a].currency == extra[t.from].currency) {
                t.to = a;
              }
            }
            break;
          }
          default:
            draw_xfer_acct(t);
        }
        plan.transfers.push_back(t);
        continue;
      }
      if (t.kind == OpKind::capture || t.kind == OpKind::void_hold) {
        size_t eligible = 0;
        while (eligible < open_holds.size() && open_holds[eligible] + close_gap <= i) ++eligible;
        if (eligible == 0) {
          t.kind = OpKind::transfer;  // no hold old enough yet
        } else {
          const auto pos = static_cast<size_t>(draw(random, 0, eligible - 1));
          t.hold_op = open_holds[pos];
          open_holds.erase(open_holds.begin() + static_cast<std::ptrdiff_t>(pos));
          const auto& hold = plan.transfers[t.hold_op];
          t.from = hold.from;
          t.to = hold.to;
          t.amount_minor = hold.amount_minor;
          if (t.kind == OpKind::capture) {
            t.capture_all = draw(random, 0, 1) == 0;
            if (!t.capture_all) {
              t.amount_minor =
                  static_cast<int64_t>(draw(random, 1, static_cast<uint64_t>(hold.amount_minor)));
            }
          }
          plan.transfers.push_back(t);
          continue;
        }
      }
      if (t.kind == OpKind::hold) open_holds.push_back(static_cast<uint32_t>(i));
    }
    if (draw(random, 0, 999'999) < hot_millionths) {
      // Account 0 is the hot one; it is on the paying side half of the time.
      const auto other = static_cast<uint32_t>(draw(random, 1, accounts - 1));
      const bool hot_pays = draw(random, 0, 1) == 0;
      t.from = hot_pays ? 0 : other;
      t.to = hot_pays ? other : 0;
    } else {
      t.from = static_cast<uint32_t>(draw(random, 0, accounts - 1));
      t.to = static_cast<uint32_t>((t.from + draw(random, 1, accounts - 1)) % accounts);
    }
    t.amount_minor =
        static_cast<int64_t>(draw(random, static_cast<uint64_t>(config.min_amount_minor),
                                  static_cast<uint64_t>(config.max_amount_minor)));
    if (config.fee_payments && t.kind == OpKind::transfer) make_payment(t);
    plan.transfers.push_back(t);
  }

  // An account operation is a sequence of requests, not one keyed request: it is not
  // sent twice (its picks are dropped, so the counts say what was sent).
  plan.schedule = schedule_sends(
      count, config.duplicate_share, config.concurrency, random,
      [&plan](uint32_t t) { return !is_account_op(plan.transfers[t].kind); },
      plan.concurrent_duplicates, plan.late_duplicates);
  return plan;
}

std::vector<Send> schedule_sends(size_t count, double duplicate_share, int concurrency,
                                 std::mt19937_64& random,
                                 const std::function<bool(uint32_t)>& twice,
                                 size_t& concurrent_duplicates, size_t& late_duplicates) {
  // Exactly round(share * count) keys are duplicated: a partial Fisher-Yates shuffle picks them;
  // the first half of the picks go right behind their original, the rest later.
  const auto duplicated = std::min(
      count, static_cast<size_t>(std::llround(duplicate_share * static_cast<double>(count))));
  std::vector<uint32_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < duplicated; ++i) {
    std::swap(order[i], order[draw(random, i, count - 1)]);
  }
  std::vector<uint8_t> concurrent(count, 0);
  std::vector<std::vector<uint32_t>> late_after(count);
  concurrent_duplicates = (duplicated + 1) / 2;
  late_duplicates = duplicated - concurrent_duplicates;
  // A late copy goes at least a few rounds of all workers after its original, so that the
  // original has normally been answered by then.
  const size_t gap = static_cast<size_t>(std::max(concurrency, 1)) * 4;
  for (size_t d = 0; d < duplicated; ++d) {
    const uint32_t t = order[d];
    if (d < concurrent_duplicates) {
      concurrent[t] = 1;
    } else {
      size_t slot =
          t + gap < count ? static_cast<size_t>(draw(random, t + gap, count - 1)) : count - 1;
      late_after[slot].push_back(t);
    }
  }

  std::vector<Send> schedule;
  schedule.reserve(count + duplicated);
  for (size_t i = 0; i < count; ++i) {
    const auto t = static_cast<uint32_t>(i);
    schedule.push_back({t, SendKind::original});
    if (concurrent[i]) {
      if (twice(t)) {
        schedule.push_back({t, SendKind::concurrent_duplicate});
      } else {
        --concurrent_duplicates;
      }
    }
    for (uint32_t late : late_after[i]) {
      if (twice(late)) {
        schedule.push_back({late, SendKind::late_duplicate});
      } else {
        --late_duplicates;
      }
    }
  }
  return schedule;
}

}  // namespace wallet::stress
