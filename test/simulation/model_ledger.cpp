#include "test/simulation/model_ledger.hpp"

#include <set>

#include "domain/partitioning.hpp"

namespace wallet::simulation {

using persistence::ApplyStatus;
using persistence::EntryKind;

bool ModelState::apply(const std::vector<const persistence::LedgerMutation*>& batch,
                       std::string* why) {
  auto refuse = [why](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  // accounts: the balance each touched account starts from (its first entry's old balance) and
  // ends at (its last entry's new balance); the update is conditional on the start.
  std::map<std::string, std::pair<int64_t, int64_t>> spans;
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.entry.id);
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) {
      auto it = spans.try_emplace(e.user_id, e.old_balance, e.new_balance).first;
      it->second.second = e.new_balance;
      if (!balances.count(e.user_id)) return refuse("foreign key: no such user");
      if (e.change == 0) return refuse("check: balance_change <> 0");
      if (e.old_balance < 0 || e.new_balance < 0) return refuse("check: balances >= 0");
      if (e.old_balance + e.change != e.new_balance) return refuse("check: old + change = new");
      if ((e.kind == EntryKind::deposit) != e.transfer_id.empty()) {
        return refuse("check: transfer_id iff transfer");
      }
      if ((e.kind == EntryKind::transfer_debit) != (e.change < 0)) {
        return refuse("check: debit iff negative");
      }
      if (!ids.insert(e.id).second) return refuse("primary key: transactions.id");
    }
    if (mutation->outcome) {
      std::pair<std::string, std::string> key{mutation->outcome->endpoint, mutation->outcome->key};
      if (outcomes.count(key) || !keys.insert(key).second) {
        return refuse("primary key: idempotency_keys");
      }
      if (key.second.empty() || key.second.size() > 255) return refuse("check: key length");
    }
  }
  std::set<std::string> new_hold_ids;
  std::set<std::string> closed_hold_ids;
  for (const auto* mutation : batch) {
    for (const auto& h : mutation->new_holds) {
      if (holds.count(h.hold_id) || !new_hold_ids.insert(h.hold_id).second) {
        return refuse("primary key: holds.hold_id");
      }
    }
    for (const auto& c : mutation->hold_changes) {
      auto it = holds.find(c.hold_id);
      if (it == holds.end() || it->second.status != "pending" ||
          !closed_hold_ids.insert(c.hold_id).second) {
        return refuse("hold not pending");
      }
    }
  }
  for (const auto& [user_id, span] : spans) {
    if (balances.at(user_id) != span.first) return refuse("stale balance (WL001)");
    if (span.second < 0) return refuse("check: users.balance >= 0");
  }
  // WL004: for every account the batch debited or gave a new hold, its pending holds (after the
  // batch) must not exceed its balance (after the batch).
  std::set<std::string> guarded;
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) {
      if (e.change < 0) guarded.insert(e.user_id);
    }
    for (const auto& h : mutation->new_holds) guarded.insert(h.from_user_id);
  }
  for (const auto& user_id : guarded) {
    int64_t held = 0;
    for (const auto& [id, hold] : holds) {
      if (hold.from_user_id != user_id || hold.status != "pending") continue;
      bool closing = false;
      for (const auto* mutation : batch) {
        for (const auto& c : mutation->hold_changes) closing = closing || c.hold_id == id;
      }
      if (!closing) held += hold.amount;
    }
    for (const auto* mutation : batch) {
      for (const auto& h : mutation->new_holds) {
        if (h.from_user_id == user_id) held += h.amount;
      }
    }
    auto span = spans.find(user_id);
    const int64_t balance = span != spans.end() ? span->second.second : balances.at(user_id);
    if (held > balance) return refuse("pending holds exceed the balance (WL004)");
  }
  for (const auto& [user_id, span] : spans) balances[user_id] = span.second;
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) rows.push_back({e, rows.size() + 1});
    if (mutation->outcome) {
      outcomes[{mutation->outcome->endpoint, mutation->outcome->key}] = *mutation->outcome;
    }
    for (const auto& h : mutation->new_holds) holds[h.hold_id] = h;
    for (const auto& c : mutation->hold_changes) {
      auto& hold = holds[c.hold_id];
      hold.status = c.status;
      hold.transfer_id = c.transfer_id;
      hold.captured_amount = c.captured_amount;
    }
  }
  return true;
}

void ModelState::create_partitions(int count) {
  if (!partition_owner.empty()) return;
  for (int p = 0; p < count; ++p) partition_owner[p] = ModelPartition{};
}

int64_t ModelState::take_partition(int partition, const std::string& instance) {
  auto& row = partition_owner.at(partition);
  row.owner = instance;
  return ++row.epoch;
}

ApplyStatus ModelState::commit(const std::vector<const persistence::LedgerMutation*>& batch,
                               const persistence::OwnershipClaim* claim, std::string* why) {
  if (claim && !claim->instance_id.empty()) {
    auto fenced = [why](const char* reason) {
      if (why) *why = reason;
      return ApplyStatus::fenced;
    };
    const int partitions = static_cast<int>(partition_owner.size());
    if (partitions == 0) return fenced("fence: no partitions exist (WL005)");
    std::set<int> claimed;
    for (const auto& [partition, epoch] : claim->epochs) claimed.insert(partition);
    // The accounts the batch writes: balances it moves, payers of holds it creates or closes.
    std::set<std::string> touched;
    for (const auto* mutation : batch) {
      for (const auto& e : mutation->entries) touched.insert(e.user_id);
      for (const auto& h : mutation->new_holds) touched.insert(h.from_user_id);
      for (const auto& c : mutation->hold_changes) {
        auto it = holds.find(c.hold_id);
        if (it != holds.end()) touched.insert(it->second.from_user_id);
      }
    }
    for (const auto& user_id : touched) {
      if (!claimed.count(domain::partition_of(user_id, partitions))) {
        return fenced("fence: the batch touches a partition it does not claim (WL005)");
      }
    }
    size_t current = 0;
    for (const auto& [partition, epoch] : claim->epochs) {
      auto it = partition_owner.find(partition);
      if (it != partition_owner.end() && it->second.owner == claim->instance_id &&
          it->second.epoch == epoch) {
        ++current;
      }
    }
    if (current != claim->epochs.size()) return fenced("fence: partition moved (WL005)");
  }
  return apply(batch, why) ? ApplyStatus::committed : ApplyStatus::rejected;
}

bool ModelState::contains(const persistence::LedgerMutation& probe) const {
  if (!probe.entries.empty()) {
    for (const auto& row : rows) {
      if (row.entry.id == probe.entries.front().id) return true;
    }
    return false;
  }
  if (probe.outcome) {
    auto it = outcomes.find({probe.outcome->endpoint, probe.outcome->key});
    return it != outcomes.end() && it->second.request_hash == probe.outcome->request_hash &&
           it->second.status == probe.outcome->status && it->second.body == probe.outcome->body;
  }
  if (!probe.new_holds.empty()) return holds.count(probe.new_holds.front().hold_id) > 0;
  if (!probe.hold_changes.empty()) {
    auto it = holds.find(probe.hold_changes.front().hold_id);
    return it != holds.end() && it->second.status == probe.hold_changes.front().status;
  }
  return false;
}

namespace {
std::string key_names(const std::vector<persistence::KeyRef>& keys) {
  std::string names;
  for (const auto& key : keys) names += " " + key.second;
  return names;
}

domain::Error unavailable() {
  return {domain::ErrorCode::unavailable, "the database is unavailable, retry later"};
}
}  // namespace

void ModelLedger::load_account(
    const std::string& user_id,
    std::function<void(domain::Result<std::optional<persistence::AccountRecord>>)> done) {
  pending_.push_back({"load " + user_id.substr(24), false, [this, user_id, done](Fault fault) {
                        if (fault != Fault::none) return done(unavailable());
                        auto it = state_.balances.find(user_id);
                        if (it == state_.balances.end()) {
                          return done(std::optional<persistence::AccountRecord>{});
                        }
                        persistence::AccountRecord account{it->second, {}};
                        for (const auto& [id, hold] : state_.holds) {
                          if (hold.from_user_id == user_id && hold.status == "pending") {
                            account.pending_holds.push_back(hold);
                          }
                        }
                        done(std::optional<persistence::AccountRecord>{std::move(account)});
                      }});
}

void ModelLedger::find_outcomes(
    std::vector<persistence::KeyRef> keys,
    std::function<void(domain::Result<std::vector<persistence::IdempotencyOutcome>>)> done) {
  pending_.push_back({"lookup " + std::to_string(keys.size()) + " keys:" + key_names(keys), false,
                      [this, keys, done](Fault fault) {
                        if (fault != Fault::none) return done(unavailable());
                        std::vector<persistence::IdempotencyOutcome> found;
                        for (const auto& key : keys) {
                          auto it = state_.outcomes.find(key);
                          if (it != state_.outcomes.end()) found.push_back(it->second);
                        }
                        done(std::move(found));
                      }});
}

void ModelLedger::apply(const std::vector<const persistence::LedgerMutation*>& batch,
                        std::function<void(ApplyStatus)> done) {
  // The writer keeps the mutations alive until it is answered, but copy them: a model that reads
  // freed memory would hide exactly the bugs it is here to find.
  std::vector<persistence::LedgerMutation> copy;
  for (const auto* m : batch) copy.push_back(*m);
  pending_.push_back({"apply " + std::to_string(batch.size()) + " mutations", true,
                      // The claim as the writer sends it: taken now, checked at commit.
                      [this, copy, claim = claim_, done](Fault fault) {
                        std::vector<const persistence::LedgerMutation*> ops;
                        for (const auto& m : copy) ops.push_back(&m);
                        if (fault == Fault::fail) return done(ApplyStatus::unavailable);
                        if (fault == Fault::in_doubt_lost) return done(ApplyStatus::in_doubt);
                        const auto status = state_.commit(ops, &claim, nullptr);
                        if (status != ApplyStatus::committed) return done(status);
                        if (on_commit) on_commit();
                        done(fault == Fault::in_doubt_committed ? ApplyStatus::in_doubt
                                                                : ApplyStatus::committed);
                      }});
}

void ModelLedger::was_committed(const persistence::LedgerMutation& probe,
                                std::function<void(domain::Result<bool>)> done) {
  pending_.push_back({"was_committed", false, [this, probe, done](Fault fault) {
                        if (fault != Fault::none) return done(unavailable());
                        done(state_.contains(probe));
                      }});
}

void ModelLedger::purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) {
  done(size_t{0});
}

}  // namespace wallet::simulation
