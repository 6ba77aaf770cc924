// The checks of what clients were told: every request answered once, 200 only for what committed,
// one outcome per key, refusals decided on what Postgres held.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "test/simulation/retention_check.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

// What each account could spend after a commit: balance + overdraft line - pending holds (SPEC
// section 8).
void Simulation::record_available() {
  const auto& state = model_->state();
  for (const auto& user : accounts_) {
    int64_t held = 0;
    for (const auto& [id, hold] : state.holds) {
      if (hold.from_user_id == user && hold.status == "pending") held += hold.amount;
    }
    const int64_t available = state.balances.at(user) + state.rules_of(user).overdraft_limit - held;
    auto& points = history_[user];
    if (points.empty() || points.back().second != available) points.push_back({step_, available});
  }
}

std::optional<std::string> Simulation::body_field(const Reply& reply, const char* name) {
  auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains(name) || !doc[name].is_string()) {
    return std::nullopt;
  }
  return doc[name].get<std::string>();
}

std::string Simulation::error_code(const Reply& reply) {
  auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("error")) return "";
  const auto& error = doc["error"];
  if (!error.is_object() || !error.contains("code") || !error["code"].is_string()) return "";
  return error["code"].get<std::string>();
}

// Every request answered exactly once; 200 only for what committed; everything that committed
// was answered 200 to someone (never 503 for work that may commit).
void Simulation::check_answers() {
  std::set<std::string> committed;
  for (const auto& row : model_->state().rows) {
    if (foreign_rows_.count(row.entry.id)) continue;       // the other instance's, not a client's
    if (incoming_.count(row.entry.transfer_id)) continue;  // a credit from the other instance
    if (incoming_postings_.count(row.entry.transaction_id)) continue;  // and of its transactions
    // A transaction across owners the other instance coordinated (this one captured its hold).
    if (across_ && across_->coordinated_elsewhere(row.entry.transaction_id)) continue;
    // A transaction's rows are its (check_transaction_rows: all of them or none).
    committed.insert(!row.entry.transaction_id.empty() ? row.entry.transaction_id
                     : row.entry.transfer_id.empty()   ? row.entry.id
                                                       : row.entry.transfer_id);
  }
  for (const auto& [id, hold] : model_->state().holds) {
    if (hold.transaction_id.empty()) committed.insert(id);  // a transaction's: no client's
  }
  // A transaction across owners whose payers are all the other instance's commits its record
  // here with no row of this instance.
  for (const auto& [id, transaction] : model_->state().transactions) {
    if (incoming_postings_.count(id)) continue;
    if (across_ && across_->coordinated_elsewhere(id)) continue;
    committed.insert(id);
  }
  std::set<std::string> acknowledged;
  for (const auto& op : ops_) {
    if (op->replies != 1) {
      fail("client #" + std::to_string(op->id) + " got " + std::to_string(op->replies) +
           " replies");
      continue;
    }
    if (op->reply.status() != 200 && op->reply.status() != 201) continue;
    if (updates_account(op->kind)) continue;  // check_update_answers
    if (op->kind == ClientOp::Kind::void_hold) {
      auto it = model_->state().holds.find(op->hold_id);
      if (it == model_->state().holds.end() || it->second.status != "voided") {
        fail("client #" + std::to_string(op->id) + " was told its void committed but hold " +
             op->hold_id + " is not voided");
      }
      acknowledged.insert("void " + op->hold_id);
      continue;
    }
    auto id = body_field(op->reply,
                         op->kind == ClientOp::Kind::transfer || op->kind == ClientOp::Kind::capture
                             ? "transfer_id"
                         : op->kind == ClientOp::Kind::hold ? "hold_id"
                                                            : "transaction_id");
    if (op->kind == ClientOp::Kind::capture) {
      auto it = model_->state().holds.find(op->hold_id);
      if (!id || it == model_->state().holds.end() || it->second.status != "captured" ||
          it->second.transfer_id != *id) {
        fail("client #" + std::to_string(op->id) + " was told its capture committed but hold " +
             op->hold_id + " is not captured by that transfer: " + op->reply.body());
      }
    }
    if (!id || !committed.count(*id)) {
      fail("client #" + std::to_string(op->id) + " was told " + std::to_string(op->reply.status()) +
           " for what never committed: " + op->reply.body());
      continue;
    }
    acknowledged.insert(*id);
  }
  for (const auto& [id, hold] : model_->state().holds) {
    if (hold.status == "voided" && hold.transaction_id.empty()) committed.insert("void " + id);
  }
  for (const auto& id : committed) {
    if (acknowledged.count(id)) continue;
    std::string what = id.rfind("void ", 0) == 0 ? "void of a hold" : "hold";
    for (const auto& row : model_->state().rows) {
      if (row.entry.id == id || row.entry.transfer_id == id || row.entry.transaction_id == id) {
        what = persistence::entry_kind_name(row.entry.kind);
      }
    }
    fail("committed but nobody was told 200: " + what + " " + id);
  }
}

// Every key has one outcome, and each answer given under it is that outcome, byte for byte.
// (A key reused after its retention is a new operation: its answers are those of the outcome
// stored under it before each answer, as the store's log of outcomes holds them.)
void Simulation::check_keys() {
  const auto& log = model_->state().outcome_log;
  for (const auto& op : ops_) {
    if (!op->tag || op->replies != 1) continue;
    const int status = op->reply.status();
    if (status != 200 && status != 201 && status != 409) continue;
    // A reversal refused by Postgres' guard (WL009: another reversal took what was left) is
    // answered 409 already_reversed without an outcome stored for its key (a retry reads the
    // transaction again and is refused by the HTTP layer, whose refusal is stored).
    if (op->kind == ClientOp::Kind::reversal && !op->reply.durable && !op->reply.replayed &&
        error_code(op->reply) == "already_reversed") {
      continue;
    }
    if (outcome_answered(*op, log)) continue;
    // Ledger::capture_hold and void_hold answer 409 hold_not_pending for a hold of a
    // transaction across owners without storing it under the key (a retry is refused the same).
    if (status == 409 && of_transaction(*op)) continue;
    const StoredOutcome* latest = nullptr;
    for (const auto& stored : log) {
      if (stored.outcome.endpoint == op->tag->endpoint && stored.outcome.key == op->tag->key) {
        latest = &stored;
      }
    }
    if (!latest) {
      fail("client #" + std::to_string(op->id) + " got " + std::to_string(status) + " under key " +
           op->tag->key + " but no outcome was stored");
      continue;
    }
    fail("client #" + std::to_string(op->id) + " under key " + op->tag->key +
         " got an answer other than the stored outcome: " + op->reply.body() + " vs " +
         latest->outcome.body);
  }
}

// A 409 insufficient_funds is decided on money Postgres held: at some moment while the request
// was being handled, the payer's committed balance was below the amount. (Refusals for an
// account's rules: check_rules_refusals.)
void Simulation::check_refusals() {
  for (const auto& op : ops_) {
    if (op->replies != 1 || op->reply.status() != 409 || op->reply.replayed) continue;
    if (refused_for_rules(op->reply) || updates_account(op->kind)) continue;
    if (posts(op->kind)) continue;  // check_transaction_refusals
    if (op->kind == ClientOp::Kind::capture || op->kind == ClientOp::Kind::void_hold) {
      if (error_code(op->reply) != "hold_not_pending") {
        fail("client #" + std::to_string(op->id) +
             " closing a hold was refused: " + op->reply.body());
      }
      continue;  // hold_not_pending is checked when answered (check_hold_refusal)
    }
    if (excused_refusal(*op)) continue;
    const auto& points = history_[op->from];
    int64_t lowest = INT64_MAX;
    int64_t before = points.front().second;
    for (const auto& [step, balance] : points) {
      if (step <= op->sent_step) before = balance;
      if (step > op->sent_step && step <= op->answered_step) lowest = std::min(lowest, balance);
    }
    lowest = std::min(lowest, before);
    if (lowest >= op->amount) {
      fail("client #" + std::to_string(op->id) + " was refused insufficient_funds for " +
           money(op->amount) + " but Postgres held at least " + money(lowest) +
           " for the payer all along");
    }
  }
}

// Known limit of fencing: an instance that lost a partition without knowing it still answers
// unkeyed refusals from its memory (no commit, so no fence). Ownership by the group protocol
// retires those actors on revocation; a paused instance needs a lease to bound it.
bool Simulation::excused_refusal(const ClientOp& op) const {
  bool moved = moved_account(op.from);
  for (const auto& p : op.postings) moved = moved || moved_account(p.from) || moved_account(p.to);
  return !op.tag && moved && op.answered_step >= move_at_;
}

bool Simulation::refused_for_rules(const Reply& reply) {
  const auto code = error_code(reply);
  return code == "account_frozen" || code == "account_closed";
}

// A capture or void of a hold of a transaction across owners (no client may close one).
bool Simulation::of_transaction(const ClientOp& op) const {
  if (op.kind != ClientOp::Kind::capture && op.kind != ClientOp::Kind::void_hold) return false;
  auto it = model_->state().holds.find(op.hold_id);
  return it != model_->state().holds.end() && !it->second.transaction_id.empty();
}

// When answered: a 409 hold_not_pending is decided on a hold Postgres had closed (holds never
// reopen, so it is still closed); a 404 hold_not_found only for a hold that was never committed.
void Simulation::check_hold_refusal(const ClientOp& op) {
  if (op.kind != ClientOp::Kind::capture && op.kind != ClientOp::Kind::void_hold) return;
  const auto& holds = model_->state().holds;
  auto it = holds.find(op.hold_id);
  const auto code = error_code(op.reply);
  if (op.reply.status() == 409 && !refused_for_rules(op.reply) &&
      (it == holds.end() || it->second.status == "pending") && !of_transaction(op)) {
    // Refused as overdue: its expiry closes it after the answer (checked at rest).
    if (expiry_ && it != holds.end() && expiry_->refused_as_overdue(op, it->second, now_ms())) {
      return;
    }
    fail("client #" + std::to_string(op.id) + " was refused " + code + " for hold " + op.hold_id +
         " while Postgres held it pending" +
         (expiry_ && it != holds.end()
              ? " and live (it expires at " + std::to_string(it->second.expires_at_ms) +
                    " ms, answered at " + std::to_string(now_ms()) + " ms)"
              : std::string()));
  }
  if (op.reply.status() == 404 && op.hold_known) {
    fail("client #" + std::to_string(op.id) + " was told hold " + op.hold_id +
         " does not exist, but it was committed before the request");
  }
}

}  // namespace wallet::simulation
