// TransferPlan: seeded choice of accounts and amounts, and the send order with duplicates.
#include "tools/wallet_stress/transfer_plan.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "domain/money.hpp"

namespace wallet::stress {
namespace {

// Uniform in [low, high]; std::uniform_int_distribution is not the same on every standard
// library, and a seed should give the same plan everywhere.
uint64_t draw(std::mt19937_64& random, uint64_t low, uint64_t high) {
  return low + random() % (high - low + 1);
}

}  // namespace

std::string TransferPlan::key(uint32_t transfer) const {
  return "stress-" + run_id + "-t" + std::to_string(transfer);
}

std::string TransferPlan::body(uint32_t transfer, const std::vector<Account>& accounts) const {
  const auto& t = transfers[transfer];
  return nlohmann::json{{"from_user_id", accounts[t.from].user_id},
                        {"to_user_id", accounts[t.to].user_id},
                        {"amount_to_transfer", domain::format_minor_units(t.amount_minor)}}
      .dump();
}

TransferPlan build_plan(const StressConfig& config, size_t account_count,
                        const std::string& run_id) {
  TransferPlan plan;
  plan.run_id = run_id;
  std::mt19937_64 random(config.seed);
  const auto count = static_cast<size_t>(config.transfers);
  const auto accounts = static_cast<uint64_t>(account_count);
  // Probabilities are compared in millionths, again for the same plan on every platform.
  const auto hot_millionths = static_cast<uint64_t>(std::llround(config.hot_share * 1e6));

  plan.transfers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    PlannedTransfer t;
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
    plan.transfers.push_back(t);
  }

  // Exactly round(share * count) transfers are duplicated: a partial Fisher-Yates shuffle picks
  // them; the first half of the picks go right behind their original, the rest later.
  const auto duplicated = std::min(
      count,
      static_cast<size_t>(std::llround(config.duplicate_share * static_cast<double>(count))));
  std::vector<uint32_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < duplicated; ++i) {
    std::swap(order[i], order[draw(random, i, count - 1)]);
  }
  std::vector<uint8_t> concurrent(count, 0);
  std::vector<std::vector<uint32_t>> late_after(count);
  plan.concurrent_duplicates = (duplicated + 1) / 2;
  plan.late_duplicates = duplicated - plan.concurrent_duplicates;
  // A late copy goes at least a few rounds of all workers after its original, so that the
  // original has normally been answered by then.
  const size_t gap = static_cast<size_t>(std::max(config.concurrency, 1)) * 4;
  for (size_t d = 0; d < duplicated; ++d) {
    const uint32_t t = order[d];
    if (d < plan.concurrent_duplicates) {
      concurrent[t] = 1;
    } else {
      size_t slot =
          t + gap < count ? static_cast<size_t>(draw(random, t + gap, count - 1)) : count - 1;
      late_after[slot].push_back(t);
    }
  }

  plan.schedule.reserve(count + duplicated);
  for (size_t i = 0; i < count; ++i) {
    const auto t = static_cast<uint32_t>(i);
    plan.schedule.push_back({t, SendKind::original});
    if (concurrent[i]) plan.schedule.push_back({t, SendKind::concurrent_duplicate});
    for (uint32_t late : late_after[i]) plan.schedule.push_back({late, SendKind::late_duplicate});
  }
  return plan;
}

}  // namespace wallet::stress
