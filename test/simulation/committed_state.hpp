// Committed: what Postgres held after each commit of the model, read back from its log of rules
// changes, its rows and its holds' commit points (all three in commit order). The checks that judge
// a refusal by the state it was decided on read it (account_rules_check, transaction_check).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

class Committed {
 public:
  Committed(const ModelState& state, const std::map<std::string, ModelRules>& initial)
      : state_(state), initial_(initial) {}

  // The rules an account had just before `point` (a change at the same point is not yet made).
  ModelRules rules_before(const std::string& account, const CommitPoint& point) const {
    auto it = initial_.find(account);
    ModelRules rules = it == initial_.end() ? ModelRules{} : it->second;
    for (const auto& change : state_.rules_log) {
      if (!(change.at < point)) break;
      if (change.account_id == account) rules = change.after;
    }
    return rules;
  }
  ModelRules rules_after(const std::string& account, uint64_t commit) const {
    return rules_before(account, CommitPoint{commit + 1, 0});
  }
  int64_t balance_after(const std::string& account, uint64_t commit) const {
    std::optional<int64_t> balance;
    for (const auto& row : state_.rows) {
      if (row.entry.user_id != account) continue;
      if (row.at.commit > commit) return balance.value_or(row.entry.old_balance);
      balance = row.entry.new_balance;
    }
    if (balance) return *balance;
    auto it = state_.balances.find(account);
    return it == state_.balances.end() ? 0 : it->second;  // no row: its balance never moved
  }
  int64_t held_after(const std::string& account, uint64_t commit) const {
    int64_t held = 0;
    for (const auto& [hold_id, hold] : state_.holds) {
      if (hold.from_user_id != account) continue;
      auto created = state_.hold_created.find(hold_id);
      auto closed = state_.hold_closed.find(hold_id);
      if (created == state_.hold_created.end() || created->second.commit > commit) continue;
      if (closed != state_.hold_closed.end() && closed->second.commit <= commit) continue;
      held += hold.amount;
    }
    return held;
  }

 private:
  const ModelState& state_;
  const std::map<std::string, ModelRules>& initial_;
};

}  // namespace wallet::simulation
