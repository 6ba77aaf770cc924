// TransferPlan: seeded choice of accounts and amounts, and the send order with duplicates
// (plan_requests.cpp turns each operation into the request that sends it).
#include "tools/wallet_stress/transfer_plan.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace wallet::stress {
uint64_t draw(std::mt19937_64& random, uint64_t low, uint64_t high) {
  return low + random() % (high - low + 1);
}

namespace {

// What build_plan draws from: the seed's two streams, the accounts each kind of operation picks
// from, and the holds not yet captured or voided.
struct PlanDraws {
  PlanDraws(const StressConfig& config, size_t account_count,
            const std::vector<CurrencyAccount>& extra, const std::vector<CurrencyInfo>& currencies)
      : config(config),
        extra(extra),
        accounts(static_cast<uint64_t>(account_count)),
        // Probabilities are compared in millionths, again for the same plan on every platform.
        hot_millionths(static_cast<uint64_t>(std::llround(config.hot_share * 1e6))),
        random(config.seed),
        // Fee accounts come from a stream of their own, so that a --fee-payments run has the
        // payers, payees, amounts and send order of the plain transfer run of the same seed.
        fee_random(config.seed ^ 0x9e3779b97f4a7c15ULL),
        by_currency(currencies.size()),
        close_gap(static_cast<size_t>(std::max(config.concurrency, 1)) * 2) {
    for (size_t a = 0; a < extra.size(); ++a) {
      (extra[a].closable ? closable : transferring).push_back(static_cast<uint32_t>(a));
      if (!extra[a].closable) by_currency[extra[a].currency].push_back(static_cast<uint32_t>(a));
    }
  }

  const StressConfig& config;
  const std::vector<CurrencyAccount>& extra;
  const uint64_t accounts;
  const uint64_t hot_millionths;
  std::mt19937_64 random;
  std::mt19937_64 fee_random;
  // The currency accounts for transfers, per currency, and those set aside to close.
  std::vector<std::vector<uint32_t>> by_currency;
  std::vector<uint32_t> transferring, closable;
  size_t next_closable = 0;
  // Holds not yet given a capture or void; a close picks one at least `close_gap` operations
  // back, so that the hold has normally been answered when the close is sent.
  std::vector<uint32_t> open_holds;
  const size_t close_gap;
};

// The kind of the next operation of a mix, by weight (`weights`: their sum).
OpKind draw_kind(const StressConfig& config, uint64_t weights, std::mt19937_64& random) {
  uint64_t pick = draw(random, 0, weights - 1);
  auto take = [&pick](int weight) {
    if (pick < static_cast<uint64_t>(weight)) return true;
    pick -= static_cast<uint64_t>(weight);
    return false;
  };
  return take(config.mix_transfer)    ? OpKind::transfer
         : take(config.mix_hold)      ? OpKind::hold
         : take(config.mix_capture)   ? OpKind::capture
         : take(config.mix_void)      ? OpKind::void_hold
         : take(config.mix_withdraw)  ? OpKind::withdraw
         : take(config.mix_xfer_acct) ? OpKind::xfer_acct
         : take(config.mix_overdraft) ? OpKind::overdraft
         : take(config.mix_freeze)    ? OpKind::freeze
                                      : OpKind::close;
}

// An account-form transfer: two accounts of one currency (of two users), an amount of it.
void draw_xfer_acct(PlanDraws& d, PlannedTransfer& t) {
  auto& random = d.random;
  const auto& by_currency = d.by_currency;
  const auto& group = by_currency[draw(random, 0, by_currency.size() - 1)];
  const uint64_t n = group.size();
  const auto from = draw(random, 0, n - 1);
  t.from = group[from];
  t.to = group[(from + draw(random, 1, n - 1)) % n];
  const int e = d.extra[t.from].exponent;
  t.amount_minor = static_cast<int64_t>(
      draw(random, static_cast<uint64_t>(scale_to_currency(d.config.min_amount_minor, e)),
           static_cast<uint64_t>(scale_to_currency(d.config.max_amount_minor, e))));
}

// An operation on the currency accounts (on_currency_accounts(t.kind)): its accounts and amount.
void draw_currency_operation(PlanDraws& d, PlannedTransfer& t) {
  auto& random = d.random;
  const auto& extra = d.extra;
  const auto& transferring = d.transferring;
  if (t.kind == OpKind::close && d.next_closable >= d.closable.size()) {
    t.kind = OpKind::xfer_acct;  // every account set aside is closed already
  }
  switch (t.kind) {
    case OpKind::overdraft: {
      // A line from 0 to the account's funding: raised, or lowered (maybe below its debt).
      t.from = transferring[draw(random, 0, transferring.size() - 1)];
      const auto fund = scale_to_currency(d.config.fund_minor, extra[t.from].exponent);
      t.amount_minor = static_cast<int64_t>(draw(random, 0, static_cast<uint64_t>(fund)));
      break;
    }
    case OpKind::freeze:
      t.from = transferring[draw(random, 0, transferring.size() - 1)];
      break;
    case OpKind::close: {
      t.from = d.closable[d.next_closable++];
      // Emptied into its user's account of the same currency.
      for (uint32_t a : transferring) {
        if (extra[a].owner == extra[t.from].owner && extra[a].currency == extra[t.from].currency) {
          t.to = a;
        }
      }
      break;
    }
    default:
      draw_xfer_acct(d, t);
  }
}

// A capture or void (operation `i`) of an open hold at least close_gap operations back: true when
// there is one; otherwise it becomes a transfer (false).
bool close_open_hold(PlanDraws& d, const TransferPlan& plan, size_t i, PlannedTransfer& t) {
  auto& random = d.random;
  auto& open_holds = d.open_holds;
  size_t eligible = 0;
  while (eligible < open_holds.size() && open_holds[eligible] + d.close_gap <= i) ++eligible;
  if (eligible == 0) {
    t.kind = OpKind::transfer;  // no hold old enough yet
    return false;
  }
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
  return true;
}

// The two users' default accounts (one of them the hot one, --hot-share of the time) and an
// amount of the default currency.
void draw_users_and_amount(PlanDraws& d, PlannedTransfer& t) {
  auto& random = d.random;
  const uint64_t accounts = d.accounts;
  if (draw(random, 0, 999'999) < d.hot_millionths) {
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
      static_cast<int64_t>(draw(random, static_cast<uint64_t>(d.config.min_amount_minor),
                                static_cast<uint64_t>(d.config.max_amount_minor)));
}

// --fee-payments: the transfer becomes a payment with a fee to a third account.
void make_payment(PlanDraws& d, PlannedTransfer& t) {
  // Uniform over the accounts but the two of the payment (at least three: check_fee_payments,
  // prepare_accounts).
  auto fee = static_cast<uint32_t>(draw(d.fee_random, 0, d.accounts - 3));
  const uint32_t low = std::min(t.from, t.to), high = std::max(t.from, t.to);
  if (fee >= low) ++fee;
  if (fee >= high) ++fee;
  t.kind = OpKind::payment;
  t.fee_to = fee;
  t.fee_minor = payment_fee(t.amount_minor);
}

}  // namespace

TransferPlan build_plan(const StressConfig& config, size_t account_count, const std::string& run_id,
                        const std::vector<CurrencyAccount>& extra,
                        const std::vector<CurrencyInfo>& currencies) {
  TransferPlan plan;
  plan.run_id = run_id;
  PlanDraws d(config, account_count, extra, currencies);
  const auto count = static_cast<size_t>(config.transfers);

  plan.hold_timeout_seconds = config.hold_timeout_seconds;
  const uint64_t weights =
      static_cast<uint64_t>(config.mix_transfer + config.mix_hold + config.mix_capture +
                            config.mix_void + config.mix_withdraw + config.mix_xfer_acct +
                            config.mix_overdraft + config.mix_freeze + config.mix_close);
  const bool mixed = static_cast<uint64_t>(config.mix_transfer) != weights;
  plan.transfers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    PlannedTransfer t;
    if (mixed) {
      // Drawn only for a mix, so that a plain transfer run keeps the plans of earlier versions.
      t.kind = draw_kind(config, weights, d.random);
      if (on_currency_accounts(t.kind)) {
        draw_currency_operation(d, t);
        plan.transfers.push_back(t);
        continue;
      }
      if ((t.kind == OpKind::capture || t.kind == OpKind::void_hold) &&
          close_open_hold(d, plan, i, t)) {
        plan.transfers.push_back(t);
        continue;
      }
      if (t.kind == OpKind::hold) d.open_holds.push_back(static_cast<uint32_t>(i));
    }
    draw_users_and_amount(d, t);
    if (config.fee_payments && t.kind == OpKind::transfer) make_payment(d, t);
    plan.transfers.push_back(t);
  }

  // An account operation is a sequence of requests, not one keyed request: it is not
  // sent twice (its picks are dropped, so the counts say what was sent).
  plan.schedule = schedule_sends(
      count, config.duplicate_share, config.concurrency, d.random,
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
