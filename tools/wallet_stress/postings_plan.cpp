// PostingPlan: seeded transactions of many postings, reversal groups and the send order.
#include "tools/wallet_stress/postings_plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "domain/currency.hpp"
#include "domain/ids.hpp"

namespace wallet::stress {
namespace {

// Draws operations of the load into `plan.ops`, one kind at a time.
class PlanDrawer {
 public:
  PlanDrawer(const StressConfig& config, const PostingsSetup& setup, PostingPlan& plan)
      : config_(config),
        setup_(setup),
        plan_(plan),
        random_(config.seed),
        users_(setup.run_users()),
        currencies_(setup.currencies.size()),
        // A reversal names an operation at least two rounds of all workers back, so that it
        // has normally been answered by the time the reversal is sent.
        target_gap_(static_cast<size_t>(std::max(config.concurrency, 1)) * 2) {}

  std::mt19937_64& random() { return random_; }

  void fund() {
    for (size_t u = 0; u < users_; ++u) {
      PostingOp op;
      op.kind = PostingKind::fund;
      for (size_t c = 0; c < currencies_; ++c) {
        const int64_t amount = scale_to_currency(config_.fund_minor, exponent(c));
        if (amount > 0) op.postings.push_back({kWorld, user(u, c), amount, uint32_t(c)});
      }
      if (!op.postings.empty()) plan_.ops.push_back(std::move(op));
    }
    // The liquidity accounts hold what all users hold (at most one request's largest amount).
    PostingOp house;
    house.kind = PostingKind::fund;
    for (size_t c = 0; c < currencies_; ++c) {
      const int64_t amount =
          std::min(scale_to_currency(config_.fund_minor, exponent(c)) * int64_t(users_),
                   domain::max_amount_minor(exponent(c)));
      if (amount > 0) {
        house.postings.push_back(
            {kWorld, int32_t(setup_.liquidity_account(c)), amount, uint32_t(c)});
      }
    }
    if (!house.postings.empty()) plan_.ops.push_back(std::move(house));
  }

  void draw_operation(size_t room) {
    const auto& w = config_.postings.weights;
    uint64_t pick = draw(random_, 0, static_cast<uint64_t>(w.total() - 1));
    auto take = [&pick](int weight) {
      if (pick < static_cast<uint64_t>(weight)) return true;
      pick -= static_cast<uint64_t>(weight);
      return false;
    };
    PostingKind kind = take(w.transfer)   ? PostingKind::transfer
                       : take(w.payment)  ? PostingKind::payment
                       : take(w.split)    ? PostingKind::split
                       : take(w.exchange) ? PostingKind::exchange
                       : take(w.deposit)  ? PostingKind::deposit
                       : take(w.withdraw) ? PostingKind::withdraw
                       : take(w.refused)  ? PostingKind::refused
                                          : PostingKind::reverse;
    if (kind == PostingKind::reverse && reverse(room)) return;
    if (kind == PostingKind::reverse) kind = PostingKind::transfer;  // nothing to reverse yet
    if (kind == PostingKind::exchange && currencies_ < 2) kind = PostingKind::transfer;
    PostingOp op;
    op.kind = kind;
    const auto who = distinct_users(4);
    const auto c = static_cast<uint32_t>(draw(random_, 0, currencies_ - 1));
    switch (kind) {
      case PostingKind::payment: {
        const int64_t x = amount(c);
        op.postings = {
            {user(who[0], c), user(who[1], c), x, c},
            {user(who[0], c), int32_t(setup_.fee_account(c)), std::max<int64_t>(1, x / 100), c}};
        break;
      }
      case PostingKind::split:
        for (size_t i = 1; i <= 3; ++i)
          op.postings.push_back({user(who[0], c), user(who[i], c), amount(c), c});
        break;
      case PostingKind::exchange: {
        // Two currencies, through the liquidity accounts: the payer's money into LIQ(c1), LIQ(c2)'s
        // into the payee's account of c2 (at nine tenths of the same number of major units).
        const auto c2 =
            static_cast<uint32_t>((c + draw(random_, 1, currencies_ - 1)) % currencies_);
        const int64_t x = amount(c);
        const int64_t converted =
            x * domain::pow10(exponent(c2)) * 9 / (domain::pow10(exponent(c)) * 10);
        op.postings = {{user(who[0], c), int32_t(setup_.liquidity_account(c)), x, c},
                       {int32_t(setup_.liquidity_account(c2)), user(who[1], c2),
                        std::max<int64_t>(1, converted), c2}};
        break;
      }
      case PostingKind::deposit:
        op.postings.push_back({kWorld, user(who[0], c), amount(c), c});
        if (currencies_ > 1 && draw(random_, 0, 1) == 0) {
          const auto c2 = static_cast<uint32_t>((c + 1) % currencies_);
          op.postings.push_back({kWorld, user(who[0], c2), amount(c2), c2});
        }
        break;
      case PostingKind::withdraw:
        op.postings.push_back({user(who[0], c), kWorld, amount(c), c});
        break;
      case PostingKind::refused:
        refused(op, who, c);
        break;
      default:
        op.postings.push_back({user(who[0], c), user(who[1], c), amount(c), c});
    }
    if (kind != PostingKind::refused && kind != PostingKind::deposit &&
        kind != PostingKind::withdraw) {
      targets_.push_back(static_cast<uint32_t>(plan_.ops.size()));
    }
    plan_.ops.push_back(std::move(op));
  }

 private:
  int exponent(size_t c) const { return setup_.currencies[c].exponent; }
  int32_t user(size_t u, size_t c) const { return int32_t(setup_.user_account(u, c)); }

  int64_t amount(size_t c) {
    const int e = exponent(c);
    return static_cast<int64_t>(
        draw(random_, static_cast<uint64_t>(scale_to_currency(config_.min_amount_minor, e)),
             static_cast<uint64_t>(scale_to_currency(config_.max_amount_minor, e))));
  }

  std::vector<size_t> distinct_users(size_t k) {
    std::vector<size_t> all(users_);
    for (size_t u = 0; u < users_; ++u) all[u] = u;
    for (size_t i = 0; i < k && i < users_; ++i)
      std::swap(all[i], all[draw(random_, i, users_ - 1)]);
    all.resize(std::min(k, users_));
    return all;
  }

  // Valid postings first (a deposit into B, which B passes on), then the one that refuses the
  // whole transaction; B's own net change stays >= 0, so only the planned account can refuse it.
  void refused(PostingOp& op, const std::vector<size_t>& who, uint32_t c) {
    const int64_t x = amount(c);
    op.postings = {{kWorld, user(who[1], c), x, c}, {user(who[1], c), user(who[2], c), x, c}};
    auto variant = draw(random_, 0, 2);
    if (variant == 2 && currencies_ < 2) variant = 0;
    if (variant == 0) {
      // More than any account of the run can hold: 999999999 major units.
      op.refusal = Refusal::insufficient_funds;
      op.refused_account = user(who[0], c);
      op.postings.push_back(
          {user(who[0], c), user(who[3], c), 999'999'999 * domain::pow10(exponent(c)), c});
    } else if (variant == 1) {
      op.refusal = Refusal::account_not_found;
      op.refused_account = kGhost;
      op.postings.push_back({user(who[0], c), kGhost, amount(c), c});
    } else {
      // Into the payee's account of another currency, with the payer's currency.
      const auto other = static_cast<uint32_t>((c + 1) % currencies_);
      op.refusal = Refusal::currency_mismatch;
      op.refused_account = user(who[3], other);
      op.postings.push_back({user(who[0], c), user(who[3], other), amount(c), c});
    }
  }

  // A reversal group of an earlier transaction: whole; partial (one posting); or three racing
  // reversals (one posting: each of a bit more than a third, so two fit; several postings: three
  // whole ones, one fits). False when no transaction is old enough yet.
  bool reverse(size_t room) {
    size_t eligible = 0;
    while (eligible < targets_.size() && targets_[eligible] + target_gap_ <= plan_.ops.size()) {
      ++eligible;
    }
    if (eligible == 0) return false;
    const auto pos = static_cast<size_t>(draw(random_, 0, eligible - 1));
    const uint32_t target = targets_[pos];
    targets_.erase(targets_.begin() + static_cast<std::ptrdiff_t>(pos));
    const auto& original = plan_.ops[target].postings;
    const bool single = original.size() == 1;
    const int64_t x = original.front().amount_minor;
    const auto variant = draw(random_, 0, 99);
    PostingOp op;
    op.kind = PostingKind::reverse;
    op.target = target;
    if (variant < 35 || room < 3) {
      plan_.ops.push_back(op);  // whole: {}
    } else if (variant < 65) {
      if (single && x >= 2)
        op.reverse_minor = static_cast<int64_t>(draw(random_, 1, uint64_t(x - 1)));
      plan_.ops.push_back(op);
    } else {
      op.race = ++plan_.races;
      if (single && x >= 6) op.reverse_minor = x / 3 + 1;
      for (int i = 0; i < 3; ++i) plan_.ops.push_back(op);
    }
    return true;
  }

  const StressConfig& config_;
  const PostingsSetup& setup_;
  PostingPlan& plan_;
  std::mt19937_64 random_;
  size_t users_, currencies_;
  size_t target_gap_;
  std::vector<uint32_t> targets_;  // transactions not yet given a reversal group, oldest first
};

}  // namespace

const char* posting_kind_name(PostingKind kind) {
  switch (kind) {
    case PostingKind::fund:
      return "fund";
    case PostingKind::transfer:
      return "transfer";
    case PostingKind::payment:
      return "payment";
    case PostingKind::split:
      return "split";
    case PostingKind::exchange:
      return "exchange";
    case PostingKind::deposit:
      return "deposit";
    case PostingKind::withdraw:
      return "withdraw";
    case PostingKind::refused:
      return "refused";
    case PostingKind::reverse:
      return "reverse";
  }
  return "transfer";
}

const char* refusal_code(Refusal refusal) {
  switch (refusal) {
    case Refusal::insufficient_funds:
      return "insufficient_funds";
    case Refusal::account_not_found:
      return "account_not_found";
    case Refusal::currency_mismatch:
      return "currency_mismatch";
    case Refusal::none:
      break;
  }
  return "";
}

int refusal_status(Refusal refusal) {
  switch (refusal) {
    case Refusal::insufficient_funds:
      return 409;
    case Refusal::account_not_found:
      return 404;
    case Refusal::currency_mismatch:
      return 400;
    case Refusal::none:
      break;
  }
  return 201;
}

std::string PostingPlan::key(uint32_t op) const {
  return "stress-" + run_id + "-p" + std::to_string(op);
}

std::string PostingPlan::side(int32_t side, const PostingsSetup& setup) const {
  if (side == kWorld) return "@world";
  if (side == kGhost) return ghost_account;
  return setup.accounts[static_cast<size_t>(side)].account_id;
}

std::string PostingPlan::path(uint32_t op, const std::string& target_id) const {
  return ops[op].kind == PostingKind::reverse ? "/transactions/" + target_id + "/reverse"
                                              : "/transactions";
}

std::string PostingPlan::body(uint32_t op, const PostingsSetup& setup) const {
  const auto& o = ops[op];
  if (o.kind == PostingKind::reverse) {
    if (o.reverse_minor == 0) return "{}";
    const auto& original = ops[o.target].postings.front();
    return nlohmann::json{
        {"amount",
         domain::format_minor(o.reverse_minor, setup.currencies[original.currency].exponent)}}
        .dump();
  }
  nlohmann::json postings = nlohmann::json::array();
  for (const auto& p : o.postings) {
    const auto& currency = setup.currencies[p.currency];
    postings.push_back({{"from", side(p.from, setup)},
                        {"to", side(p.to, setup)},
                        {"amount", domain::format_minor(p.amount_minor, currency.exponent)},
                        {"currency", currency.code}});
  }
  return nlohmann::json{{"postings", postings},
                        {"metadata", {{"stress_run", run_id}, {"op", std::to_string(op)}}},
                        {"reference", key(op)}}
      .dump();
}

PostingPlan build_postings_plan(const StressConfig& config, const PostingsSetup& setup,
                                const std::string& run_id) {
  PostingPlan plan;
  plan.run_id = run_id;
  plan.ghost_account = domain::new_uuid_v4();
  PlanDrawer drawer(config, setup, plan);
  drawer.fund();
  plan.funding_ops = plan.ops.size();
  const auto count = static_cast<size_t>(config.transfers);
  while (plan.ops.size() < plan.funding_ops + count) {
    drawer.draw_operation(plan.funding_ops + count - plan.ops.size());
  }
  plan.schedule = schedule_sends(
      count, config.duplicate_share, config.concurrency, drawer.random(),
      [](uint32_t) { return true; }, plan.concurrent_duplicates, plan.late_duplicates);
  for (auto& send : plan.schedule) send.transfer += static_cast<uint32_t>(plan.funding_ops);
  return plan;
}

}  // namespace wallet::stress
