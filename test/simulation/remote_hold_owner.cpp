#include "test/simulation/remote_hold_owner.hpp"

#include <algorithm>

#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/partitioning.hpp"

namespace wallet::simulation {
namespace {

using actors::Reply;
using persistence::TransactionDecision;

std::string tail(const std::string& id) { return id.size() > 24 ? id.substr(24) : id; }

Reply refusal(domain::ErrorCode code, std::string message, const std::string& account) {
  domain::Error error{code, std::move(message), account};
  // Encoded, as it arrives from another instance over NATS: the coordinator decodes it.
  return Reply{domain::encode(domain::Refused{error})};
}

}  // namespace

RemoteHoldOwner::RemoteHoldOwner(uint64_t seed, OtherInstance other)
    : rng_(seed), other_(std::move(other)), remote_holds_(std::make_shared<actors::RemoteHolds>()) {
  resolve_after_ms_ = 200 + static_cast<int64_t>(pick(2'800));
  remote_holds_->place = [this](actors::HoldPlacement placement, std::chrono::milliseconds within,
                                std::function<void(Reply)> done) {
    other_.note("sim-b is asked to place hold " + placement.hold_id.substr(0, 8) + " of " +
                tail(placement.payer) + " (" + domain::format_minor_units(placement.amount) +
                ", transaction " + placement.transaction_id.substr(0, 8) + " posting " +
                std::to_string(placement.posting) + ")");
    transactions_.insert(placement.transaction_id);
    payers_.insert(placement.payer);
    placing_.push_back({std::move(placement), other_.now_ms() + within.count(), std::move(done)});
  };
  remote_holds_->settle = [this](const std::string& payer, const std::string& hold_id) {
    other_.note("sim-b is told to settle hold " + hold_id.substr(0, 8) + " of " + tail(payer));
    settles_.push_back(hold_id);
  };
}

void RemoteHoldOwner::step() {
  expire();
  const auto roll = pick(100);
  if (roll < 12 && !placing_.empty()) {
    place(pick(placing_.size()), true);
  } else if (roll < 20 && !settles_.empty()) {
    const size_t i = pick(settles_.size());
    const std::string hold_id = settles_[i];
    settles_.erase(settles_.begin() + static_cast<long>(i));
    if (chance(15)) {
      other_.note("sim-b loses the request to settle hold " + hold_id.substr(0, 8));
      return;
    }
    settle(hold_id, false);
  } else if (roll < 23) {
    resolve(false);
  }
}

void RemoteHoldOwner::expire() {
  const int64_t now = other_.now_ms();
  for (size_t i = 0; i < placing_.size();) {
    auto& p = placing_[i];
    if (p.answered || now < p.due_ms) {
      ++i;
      continue;
    }
    p.answered = true;
    other_.note("the placement of hold " + p.placement.hold_id.substr(0, 8) +
                " times out (504); sim-b may still place it");
    auto done = std::move(p.done);
    // Half the time its owner never got to it; else it is placed (or refused) later, unheard.
    if (chance(50)) {
      placing_.erase(placing_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
    done(refusal(domain::ErrorCode::upstream_timeout,
                 "the instance serving the payer did not answer in time", ""));
  }
}

int RemoteHoldOwner::quiesce() {
  int done = 0;
  while (!placing_.empty()) {
    place(0, false);
    ++done;
  }
  while (!settles_.empty()) {
    const std::string hold_id = settles_.front();
    settles_.erase(settles_.begin());
    done += settle(hold_id, false) ? 1 : 0;
  }
  return done + resolve(false);
}

void RemoteHoldOwner::place(size_t index, bool faults) {
  auto p = std::move(placing_[index]);
  placing_.erase(placing_.begin() + static_cast<long>(index));
  const auto& placement = p.placement;
  const std::string what = "hold " + placement.hold_id.substr(0, 8);
  const auto fault = faults ? pick(100) : 100;
  if (fault < 8) {
    other_.note("sim-b does not place " + what + " (503)");
    if (!p.answered) {
      p.done(
          refusal(domain::ErrorCode::unavailable, "the database is unavailable, retry later", ""));
    }
    return;
  }
  auto answer = place_hold(placement);
  if (!answer) {
    other_.note("sim-b places " + what + (p.answered ? " (nobody hears it)" : ""));
    answer = Reply{domain::Encoded{201, "{\"hold_id\":\"" + placement.hold_id + "\"}"}};
    if (fault < 16) {
      other_.note("the answer to the placement of " + what + " is lost (504)");
      answer = refusal(domain::ErrorCode::upstream_timeout,
                       "the instance serving the payer did not answer in time", "");
    }
  } else {
    other_.note("sim-b refuses " + what + ": " + std::to_string(answer->status()) + " " +
                answer->body());
  }
  if (!p.answered) p.done(std::move(*answer));
}

std::optional<Reply> RemoteHoldOwner::place_hold(const actors::HoldPlacement& placement) {
  auto& shared = other_.model->shared_state();
  if (!other_.serves(placement.payer)) {  // its partition is not this instance's (either)
    return refusal(domain::ErrorCode::partition_moved,
                   "sim-b does not serve account " + placement.payer, "");
  }
  if (!shared.balances.count(placement.payer)) {
    return refusal(domain::ErrorCode::account_not_found, "no account " + placement.payer,
                   placement.payer);
  }
  const auto currency = shared.currency_of(placement.payer);
  if (currency != placement.currency) {
    return refusal(domain::ErrorCode::currency_mismatch,
                   "account " + placement.payer + " holds " + currency + ", its posting moves " +
                       placement.currency,
                   placement.payer);
  }
  const auto rules = shared.rules_of(placement.payer);
  if (rules.status == persistence::AccountStatus::frozen) {
    return refusal(domain::ErrorCode::account_frozen, "account " + placement.payer + " is frozen",
                   placement.payer);
  }
  int64_t held = 0;
  for (const auto& [id, hold] : shared.holds) {
    if (hold.from_user_id == placement.payer && hold.status == "pending") held += hold.amount;
  }
  if (shared.balances.at(placement.payer) + rules.overdraft_limit - held < placement.amount) {
    return refusal(domain::ErrorCode::insufficient_funds,
                   "account " + placement.payer + " cannot cover " +
                       domain::format_minor_units(placement.amount),
                   placement.payer);
  }
  persistence::LedgerMutation mutation;
  persistence::HoldRecord hold;
  hold.hold_id = placement.hold_id;
  hold.from_user_id = placement.payer;
  hold.to_user_id = placement.payee;
  hold.amount = placement.amount;
  hold.expires_at_ms = persistence::kNeverExpiresMs;
  hold.transaction_id = placement.transaction_id;
  hold.posting = placement.posting;
  mutation.new_holds.push_back(std::move(hold));
  std::string why;
  if (other_.commit(mutation, &why) != persistence::ApplyStatus::committed) {
    return refusal(domain::ErrorCode::unavailable, "sim-b could not place the hold: " + why, "");
  }
  placed_[placement.hold_id] = other_.now_ms();
  return std::nullopt;
}

bool RemoteHoldOwner::settle(const std::string& hold_id, bool force) {
  auto& shared = other_.model->shared_state();
  auto it = shared.holds.find(hold_id);
  if (it == shared.holds.end() || it->second.status != "pending") return false;
  const auto hold = it->second;
  auto decided = shared.decisions.find(hold.transaction_id);
  if (decided == shared.decisions.end()) {
    if (!force) return false;
    decided = shared.decisions.emplace(hold.transaction_id, TransactionDecision::abort).first;
    other_.note("sim-b's resolver decides abort for transaction " +
                hold.transaction_id.substr(0, 8));
  }
  persistence::LedgerMutation mutation;
  std::string how = "voids";
  if (decided->second == TransactionDecision::abort) {
    mutation.hold_changes.push_back({hold_id, "voided", "", 0, hold.exponent});
  } else {
    how = "captures";
    const std::string transfer_id = domain::new_uuid_v4();
    const int64_t balance = shared.balances.at(hold.from_user_id);
    persistence::LedgerEntry debit{domain::new_uuid_v4(),
                                   hold.from_user_id,
                                   -hold.amount,
                                   balance,
                                   balance - hold.amount,
                                   persistence::EntryKind::posting_debit,
                                   ""};
    debit.transaction_id = hold.transaction_id;
    debit.posting = hold.posting;
    mutation.entries.push_back(debit);
    mutation.hold_changes.push_back({hold_id, "captured", transfer_id, hold.amount, hold.exponent});
    if (other_.serves(hold.to_user_id)) {
      const int64_t to = shared.balances.at(hold.to_user_id);
      persistence::LedgerEntry credit{domain::new_uuid_v4(),
                                      hold.to_user_id,
                                      hold.amount,
                                      to,
                                      to + hold.amount,
                                      persistence::EntryKind::posting_credit,
                                      ""};
      credit.transaction_id = hold.transaction_id;
      credit.posting = hold.posting;
      mutation.entries.push_back(credit);
    } else {
      persistence::InTransit leg{transfer_id,
                                 hold.from_user_id,
                                 hold.to_user_id,
                                 hold.amount,
                                 domain::partition_of(hold.to_user_id, domain::kDefaultPartitions),
                                 {}};
      leg.transaction_id = hold.transaction_id;
      leg.posting = hold.posting;
      mutation.departures.push_back(leg);
    }
  }
  std::string why;
  if (other_.commit(mutation, &why) != persistence::ApplyStatus::committed) {
    other_.note("sim-b could not settle hold " + hold_id.substr(0, 8) + ": " + why);
    return false;
  }
  other_.note("sim-b " + how + " hold " + hold_id.substr(0, 8) + " of transaction " +
              hold.transaction_id.substr(0, 8));
  return true;
}

int RemoteHoldOwner::resolve(bool all) {
  const auto& holds = other_.model->state().holds;
  std::vector<std::string> due;
  for (const auto& [id, hold] : holds) {
    if (hold.status != "pending" || hold.transaction_id.empty()) continue;
    if (!other_.serves(hold.from_user_id)) continue;
    auto placed = placed_.find(id);
    if (!all && placed != placed_.end() && other_.now_ms() - placed->second < resolve_after_ms_) {
      continue;
    }
    due.push_back(id);
  }
  int settled = 0;
  for (const auto& id : due) settled += settle(id, true) ? 1 : 0;
  return settled;
}

}  // namespace wallet::simulation
