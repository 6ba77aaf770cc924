// The checks at rest of what the store and the actors hold, and the checkers of each mode (account
// rules, postings, across owners, the fence, hold expiry) with what the schedule exercised.
#include <map>
#include <set>
#include <vector>

#include "domain/partitioning.hpp"
#include "test/simulation/account_rules_check.hpp"
#include "test/simulation/reads_check.hpp"
#include "test/simulation/simulation_internal.hpp"
#include "test/simulation/transaction_check.hpp"

namespace wallet::simulation {

void Simulation::check_across_owners() {
  if (!across_) return;
  across_->check(
      ops_, [this](std::string failure) { fail(std::move(failure)); }, result_.across_committed,
      result_.across_aborted, result_.owned_committed, result_.owned_aborted);
}

void Simulation::check_rules_held_now() {
  if (!rules_failures_.empty()) return;  // the first commit that broke them tells
  rules_failures_ = check_rules_held(model_->state());
}

// The fence: after the owner change, not one batch of the former owner committed.
void Simulation::check_fence() {
  if (commits_after_move_ > 0) {
    fail("fence: the former owner committed " + std::to_string(commits_after_move_) +
         " batches after another instance took partition " + std::to_string(moved_partition_));
  }
}

// SPEC.md section 5 on the model: balance = initial + sum(changes); gap-free chains; a transfer
// is two rows summing to zero; money is conserved; no balance below its overdraft line.
void Simulation::check_model() {
  const auto& state = model_->state();
  std::map<std::string, int64_t> last = initial_balance_;
  std::map<std::string, std::vector<const persistence::LedgerEntry*>> transfers;
  int64_t deposits = 0;
  for (const auto& row : state.rows) {
    const auto& e = row.entry;
    if (e.old_balance != last[e.user_id]) {
      fail("chain broken for " + e.user_id + ": row " + e.id + " starts at " +
           money(e.old_balance) + " after " + money(last[e.user_id]));
    }
    if (e.old_balance + e.change != e.new_balance) fail("row arithmetic broken: " + e.id);
    last[e.user_id] = e.new_balance;
    if (e.transfer_id.empty()) {
      deposits += e.change;
    } else {
      transfers[e.transfer_id].push_back(&e);
    }
  }
  int64_t total = 0;
  for (const auto& [user, balance] : state.balances) {
    if (balance != last[user]) fail("balance of " + user + " is not the end of its chain");
    if (balance < -state.rules_of(user).overdraft_limit) fail("below its line: " + user);
    total += balance;
  }
  int64_t in_transit = 0;
  for (const auto& [id, leg] : state.in_transit) in_transit += leg.amount;
  if (total + in_transit != initial_total_ + deposits) fail("money not conserved");
  // The credit hand-off: at rest nothing is in transit, and each credit landed exactly once.
  if (!state.in_transit.empty()) {
    fail("credit hand-off: " + std::to_string(state.in_transit.size()) +
         " transfers still in transit at rest");
  }
  for (const auto& id : incoming_) {
    const auto& legs = transfers[id];
    if (legs.size() != 2) {
      fail("credit hand-off: incoming transfer " + id + " has " + std::to_string(legs.size()) +
           " rows");
    }
  }
  std::map<std::string, int64_t> held;
  for (const auto& [id, hold] : state.holds) {
    if (hold.status == "pending") held[hold.from_user_id] += hold.amount;
  }
  for (const auto& [user, amount] : held) {
    if (amount > state.balances.at(user) + state.rules_of(user).overdraft_limit) {
      fail("pending holds exceed the balance and line of " + user);
    }
  }
  for (const auto& [id, rows] : transfers) {
    if (rows.size() != 2 || rows[0]->change + rows[1]->change != 0) {
      fail("transfer " + id + " is not two rows summing to zero");
    }
  }
}

// The rules checks (account_rules_check.hpp), with how much of them the schedule exercised.
void Simulation::check_rules() {
  for (auto& failure : rules_failures_) fail("rules: " + failure);
  const auto& state = model_->state();
  for (auto& failure : check_rules_order(state, initial_rules_)) fail("rules: " + failure);
  for (auto& failure : check_update_answers(ops_, state, foreign_commits_)) {
    fail("rules: " + failure);
  }
  for (auto& failure :
       check_rules_refusals(ops_, state, initial_rules_,
                            [this](const ClientOp& op) { return excused_refusal(op); })) {
    fail("rules: " + failure);
  }
  for (const auto& row : state.rows) result_.overdrawn_rows += row.entry.new_balance < 0;
  for (const auto& [account, rules] : state.rules) {
    result_.closed_accounts += rules.status == persistence::AccountStatus::closed;
  }
}

// A hold is closed by one request at most: every 200 of a capture or void of one hold names
// the same closing (a capture's transfer_id; a void's idempotency key, or the request itself).
void Simulation::check_hold_winners() {
  std::map<std::string, std::set<std::string>> closings;
  for (const auto& op : ops_) {
    if (op->replies != 1 || op->reply.status() != 200) continue;
    if (op->kind == ClientOp::Kind::capture) {
      closings[op->hold_id].insert("capture " + body_field(op->reply, "transfer_id").value_or("?"));
    } else if (op->kind == ClientOp::Kind::void_hold) {
      closings[op->hold_id].insert(op->tag ? "void key " + op->tag->key
                                           : "void by client #" + std::to_string(op->id));
    }
  }
  for (const auto& [hold_id, winners] : closings) {
    if (winners.size() > 1) {
      std::string names;
      for (const auto& w : winners) names += " [" + w + "]";
      fail("hold " + hold_id + " was closed more than once:" + names);
    }
  }
  // A captured hold moved at most its amount, as one transfer from its payer to its payee.
  for (const auto& [hold_id, hold] : model_->state().holds) {
    // A transaction's hold is captured as its posting (check_holds_settled, transaction rows).
    if (hold.status != "captured" || !hold.transaction_id.empty()) continue;
    int64_t debited = 0, credited = 0;
    for (const auto& row : model_->state().rows) {
      if (row.entry.transfer_id != hold.transfer_id) continue;
      if (row.entry.change < 0 && row.entry.user_id == hold.from_user_id) {
        debited -= row.entry.change;
      } else if (row.entry.change > 0 && row.entry.user_id == hold.to_user_id) {
        credited += row.entry.change;
      } else {
        fail("capture of hold " + hold_id + " touched an account not its payer's or payee's");
      }
    }
    if (debited != hold.captured_amount || credited != hold.captured_amount ||
        debited > hold.amount || debited == 0) {
      fail("capture of hold " + hold_id + " moved " + money(debited) + " -> " + money(credited) +
           " for a captured amount of " + money(hold.captured_amount) + " of " +
           money(hold.amount));
    }
  }
}

// Transactions of many postings (transaction_check.hpp), in every mode (without postings they
// check the money per currency), with how much of them the schedule exercised.
void Simulation::check_postings() {
  const auto& state = model_->state();
  auto report = [this](std::vector<std::string> failures) {
    for (auto& failure : failures) fail("postings: " + failure);
  };
  report(check_transaction_rows(state));
  report(check_transaction_answers(ops_, state));
  report(check_money_per_currency(state, initial_balance_));
  report(check_reversals(state));
  report(
      check_transaction_refusals(ops_, state, initial_rules_, [this, &state](const ClientOp& op) {
        return excused_refusal(op) || (across_ && across_->refusal_justified(op, initial_rules_));
      }));
  for (const auto& [id, committed] : state.transactions) {
    if (incoming_postings_.count(id)) continue;  // the other instance's (credited here)
    (committed.record.reverses.empty() ? result_.transactions : result_.reversals) += 1;
    result_.postings += static_cast<int>(parse_postings(committed.record.postings).size());
  }
  result_.postings_across = static_cast<int>(incoming_postings_.size());
  for (const auto& row : state.rows) {
    result_.postings_across += foreign_rows_.count(row.entry.id) > 0 &&
                               row.entry.kind == persistence::EntryKind::posting_credit;
  }
  for (const auto& [why, n] : model_->refusals()) {
    if (why.find("WL009") != std::string::npos) result_.guard_refusals += n;
  }
}

// Reads (reads_check.hpp): every read answered once, each answer consistent with what was
// committed and acknowledged when it was sent and answered.
void Simulation::check_reads_answered() {
  if (!reads_) return;
  ReadsTally tally;
  for (auto& failure :
       check_reads(reads_->reads(), ops_, model_->state(), reads_->initial_balances(),
                   domain::kDefaultPartitions, result_.seed, &tally)) {
    fail("reads: " + failure);
  }
  result_.reads_answered = tally.answered;
  result_.reads_failed = tally.failed;
  result_.reads_writes_checked = tally.writes_checked;
}

void Simulation::check_expiry() {
  if (!expiry_) return;
  auto elsewhere = [this](const std::string& account) { return moved_account(account); };
  // Who else may leave a hold pending: with one owner, an owner change leaves every batch of
  // this instance fenced (its claim names the moved partition at a stale epoch, and it never
  // hears of the move), so it cannot commit an expiry either.
  auto not_ours = [this](const std::string& account) {
    return moved_account(account) || (moved_ && remote_.empty());
  };
  for (auto& failure : expiry_->check(ops_, model_->state(), now_ms(), not_ours)) {
    fail("expiry: " + failure);
  }
  auto seen = inspect_accounts();
  for (auto& failure : expiry_->check_held(seen.value_or(std::vector<actors::AccountSnapshot>{}),
                                           model_->state(), elsewhere)) {
    fail("expiry: " + failure);
  }
  result_.holds_expired = expiry_->expired();
  result_.refused_as_expired = expiry_->refused_as_expired();
}

// Liveness: every actor idle (or unloaded/missing), unlocked, clean, nothing stashed or in
// flight, and its balance the model's.
void Simulation::check_actors() {
  auto seen = inspect_accounts();
  if (!seen) {
    fail("liveness: the registry did not answer an inspection");
    return;
  }
  for (const auto& a : *seen) {
    const std::string who = "account " + a.user_id.substr(24);
    if (a.stashed != 0 || a.in_flight != 0) {
      fail("liveness: " + who + " is " + a.state + " with " + std::to_string(a.stashed) +
           " stashed and " + std::to_string(a.in_flight) + " in flight");
    }
    if (a.state != "idle" && a.state != "missing" && a.state != "unloaded") {
      fail("liveness: " + who + " is left " + a.state);
    }
    // An account of a moved partition belongs to the other instance: this one's view of it may
    // be stale (that is what the fence is for).
    if (a.state == "idle" && !moved_account(a.user_id)) {
      auto it = model_->state().balances.find(a.user_id);
      const int64_t truth = it == model_->state().balances.end() ? -1 : it->second;
      if (a.balance != truth || a.pending_balance != truth) {
        fail("liveness: " + who + " holds " + money(a.balance) + " (pending " +
             money(a.pending_balance) + ") but the store holds " + money(truth));
      }
    }
  }
}

}  // namespace wallet::simulation
