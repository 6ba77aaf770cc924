// The schedule's step loop: which message is delivered, which store operation completes (and how
// it fails or stalls), retirements, time passing; then the fault-free settling.
#include <algorithm>
#include <caf/all.hpp>
#include <cstring>
#include <optional>
#include <vector>

#include "actors/account_actor.hpp"
#include "domain/partitioning.hpp"
#include "test/simulation/deadline_check.hpp"
#include "test/simulation/expiry_check.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

using namespace std::chrono_literals;

// Whether a store operation may complete now: not stalled, and not the late reply of a load of
// an account whose partition is away or back without its notice yet (that reply, read before
// the other instance's commits, then reaches an actor that hears of the move while it loads).
bool Simulation::ready(const ModelLedger::Pending& op) {
  if (op.parked_until_ms > now_ms()) return false;
  if (!op.late_reply || !options_.returns) return true;
  const int partition = domain::partition_of(op.account, domain::kDefaultPartitions);
  return partition != away_partition_ && partition != returning_partition_;
}

size_t Simulation::ready_store_operations() {
  const auto& pending = model_->pending();
  return static_cast<size_t>(
      std::count_if(pending.begin(), pending.end(), [this](const auto& op) { return ready(op); }));
}

// Time passes while the instance works normally: every message is delivered and every store
// operation not stalled completes before the clock moves on by 100 ms, for 0.3 to 2.5 s; a
// stalled lookup stays pending meanwhile. The deadline check's clean setting: an answer is late
// only because the protocol let it wait, never because the schedule starved an actor.
void Simulation::quiet_spell() {
  const int rounds = 3 + static_cast<int>(time_rng_() % 23);
  note("time passes: " + std::to_string(rounds * 100) + " ms, fault-free");
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < 20'000; ++i) {
      if (sched_.has_job()) {
        deliver();
      } else if (ready_store_operations() > 0) {
        complete_store_operation(false);
      } else if (across_ && across_->quiet() > 0) {
        continue;
      } else {
        if (options_.stalls) note_overdue(ops_, deadline_ms_, now_ms());
        break;
      }
    }
    sched_.advance_time(100ms);
    if (across_) across_->expire();
  }
}

// The deadline check's hand-over: a mutation reaching the writer, seen in the message the writer
// is about to take (deliver() runs exactly that one).
void Simulation::note_submission(caf::scheduled_actor& actor) {
  if (ops_.empty() || std::strcmp(actor.name(), actors::WriterState::name) != 0) return;
  auto* next = actor.mailbox().peek();
  if (!next) return;
  auto& content = next->content();
  if (!content.match_elements<actors::submit_atom, actors::WriteRequest>()) return;
  note_handover(ops_, content.get_as<actors::WriteRequest>(1).mutation, now_ms());
}

void Simulation::faulty_step() {
  const int roll = static_cast<int>(pick(100));
  if (roll < 45) {
    deliver();
  } else if (roll < 60) {
    if (static_cast<int>(ops_.size()) < options_.max_operations) {
      send_operation();
    } else {
      deliver();
    }
  } else if (roll < 82) {
    complete_store_operation(true);
  } else if (roll < 87) {
    retire();
  } else if (roll < 92) {
    if (options_.stalls && time_rng_() % 100 < 12) return quiet_spell();
    const auto by = std::chrono::milliseconds(1 + pick(120));
    note("time +" + std::to_string(by.count()) + " ms");
    sched_.advance_time(by);
  } else {
    deliver();
  }
}

// Runs without faults until every request is answered, nothing waits in the store and no actor
// has mail. Returns the step count, or -1 when the bound is hit.
int Simulation::settle() {
  note("--- faults stop ---");
  if (away_partition_ >= 0) take_back();
  if (returning_partition_ >= 0) send_move_notice();
  if (moved_ && !remote_.empty()) learn_of_the_move();
  const int limit = step_ + options_.settle_steps;
  for (; step_ < limit; ++step_) {
    if (sched_.has_job()) {
      deliver();
    } else if (ready_store_operations() > 0) {
      complete_store_operation(false);
    } else if (unanswered() > 0 || !model_->pending().empty() ||
               !model_->state().in_transit.empty() ||
               ledger_->gauges().credits_applying.load() > 0 || (across_ && across_->busy())) {
      // The other instance credits what is in transit to it; this one's receiver wakes on time.
      if (credit_remote_arrivals() > 0) continue;
      // Across owners: the other instance answers, decides and settles; this one resolves.
      if (across_ && across_->quiesce() > 0) continue;
      if (options_.stalls) note_overdue(ops_, deadline_ms_, now_ms());
      note("time +100 ms");
      sched_.advance_time(100ms);
      if (across_) across_->expire();
      // Stalled store operations: time must pass until they complete (not a lack of progress).
      if (!sched_.has_job() && model_->pending().empty()) {
        // Nothing woke up: the only timers are the registry's idle scan (and the receiver's
        // pass, which keeps the schedule going until the settle bound if a credit never lands).
        if (++idle_ticks_ > 200) return -1;
      }
    } else if (across_ && accounts_busy()) {
      // Across owners, work nobody waits for (a resolver's void or capture) may still be in
      // doubt at the writer, waiting for time to pass before it asks again.
      note("time +100 ms (an account is still busy)");
      sched_.advance_time(100ms);
      if (++idle_ticks_ > 200) return -1;
    } else {
      return step_;
    }
  }
  return -1;
}

// The registry's inspection of every account actor (nullopt: it did not answer).
std::optional<std::vector<actors::AccountSnapshot>> Simulation::inspect_accounts() {
  std::optional<std::vector<actors::AccountSnapshot>> seen;
  ledger_->inspect(
      {std::nullopt, [&seen](std::vector<actors::AccountSnapshot> s) { seen = std::move(s); }});
  for (int i = 0; i < 100'000 && !seen && sched_.has_job(); ++i) sched_.run_once();
  return seen;
}

// Whether an account actor still has work in flight or stashed (the registry inspects them).
bool Simulation::accounts_busy() {
  auto seen = inspect_accounts();
  return seen && std::any_of(seen->begin(), seen->end(),
                             [](const auto& a) { return a.stashed != 0 || a.in_flight != 0; });
}

void Simulation::deliver() {
  if (!sched_.has_job()) return;
  const size_t i = pick(sched_.jobs.size());
  auto* job = sched_.jobs[i];
  if (i != 0)
    std::rotate(sched_.jobs.begin(), sched_.jobs.begin() + static_cast<long>(i),
                sched_.jobs.begin() + static_cast<long>(i) + 1);
  auto* actor = dynamic_cast<caf::scheduled_actor*>(job);
  std::string what;
  if (actor && options_.trace) {
    if (auto* next = actor->mailbox().peek()) what = " " + next->content().stringify();
    if (what.size() > 100) what.resize(100);
  }
  if (actor) note_submission(*actor);
  // An account actor is named by its account as well (retirements make several per account).
  std::string whose;
  auto* account = dynamic_cast<caf::stateful_actor<actors::AccountState>*>(actor);
  if (account && account->state.user_id.size() > 24) {
    whose = " " + account->state.user_id.substr(24);
  }
  note(std::string("deliver to ") + (actor ? actor->name() : "?") + whose + "#" +
       std::to_string(actor ? actor->id() : 0) + what);
  sched_.run_once();
}

void Simulation::complete_store_operation(bool faults) {
  auto& pending = model_->pending();
  const size_t ready_count = ready_store_operations();
  if (ready_count == 0) {
    deliver();
    return;
  }
  // The i-th operation not stalled (all of them when nothing is stalled).
  size_t i = 0;
  for (size_t left = pick(ready_count);; ++i) {
    if (!ready(pending[i])) continue;
    if (left-- == 0) break;
  }
  auto op = std::move(pending[i]);
  pending.erase(pending.begin() + static_cast<long>(i));
  if (faults && op.is_lookup && stall_percent_ > 0 &&
      static_cast<int>(time_rng_() % 100) < stall_percent_) {
    // A stall: the lookup stays pending (a locked table, a slow replica) while time passes.
    const int64_t stall_ms = 600 + static_cast<int64_t>(time_rng_() % 2'400);
    op.parked_until_ms = now_ms() + stall_ms;
    note("store: " + op.what + " stalls for " + std::to_string(stall_ms) + " ms");
    pending.push_back(std::move(op));
    return;
  }
  Fault fault = Fault::none;
  if (faults && chance(fail_percent_)) {
    if (op.is_apply) {
      const auto kind = pick(3);
      fault = kind == 0   ? Fault::fail
              : kind == 1 ? Fault::in_doubt_committed
                          : Fault::in_doubt_lost;
    } else {
      fault = Fault::fail;
    }
  }
  static const char* kFaultNames[] = {"ok", "fail", "in-doubt (committed)", "in-doubt (lost)"};
  note("store: " + op.what + " -> " + kFaultNames[static_cast<int>(fault)]);
  const uint64_t commits = model_->state().commits;
  op.complete(fault);
  if (model_->state().commits != commits) {
    note("store: commit " + std::to_string(model_->state().commits));
  }
}

void Simulation::retire() {
  const auto& user = !second_.empty() && postings_rng_() % 4 == 0
                         ? second_[postings_rng_() % second_.size()]
                         : accounts_[pick(accounts_.size())];
  note("retire " + user.substr(24));
  ledger_->retire(user);
}

// After the schedule settled: time passes, fault-free, 100 ms at a time with everything drained
// in between, until every client hold still pending passed its expiry and the sweep had
// kExpirySlackMs to close it. Returns the step count, or -1 if the work never drains.
int Simulation::let_holds_expire() {
  // At least kExpirySlackMs after the settling too: an ExpireHold can be dropped while its
  // account's stash is full (back-pressure), and the sweep's next pass must come while quiet.
  const int64_t until = std::max(latest_pending_expiry(model_->state()), now_ms()) + kExpirySlackMs;
  note("--- holds expire: time passes until " + std::to_string(until) + " ms ---");
  do {
    sched_.advance_time(100ms);
    for (int i = 0;; ++i, ++step_) {
      if (i == 20'000) return -1;
      if (sched_.has_job()) {
        deliver();
      } else if (ready_store_operations() > 0) {
        complete_store_operation(false);
      } else if (!across_ || across_->quiet() == 0) {
        break;
      }
    }
    if (across_) across_->expire();
  } while (now_ms() < until);
  return step_;
}

}  // namespace wallet::simulation
