#include "test/simulation/simulation.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>

#include "actors/account_actor.hpp"
#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/partitioning.hpp"
#include "test/simulation/account_rules_check.hpp"
#include "test/simulation/across_owners.hpp"
#include "test/simulation/client_op.hpp"
#include "test/simulation/deadline_check.hpp"
#include "test/simulation/expiry_check.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/model_ledger_records.hpp"
#include "test/simulation/posting_client.hpp"
#include "test/simulation/reads_check.hpp"
#include "test/simulation/reads_client.hpp"
#include "test/simulation/retention_check.hpp"
#include "test/simulation/transaction_check.hpp"

namespace wallet::simulation {
namespace {

using actors::Reply;
using namespace std::chrono_literals;

std::string account_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

std::string money(int64_t minor) { return domain::format_minor_units(minor); }

class Simulation {
 public:
  Simulation(uint64_t seed, const SimulationOptions& options)
      : options_(options),
        rng_(seed),
        owner_rng_(seed ^ 0x6f776e6572ULL),
        transit_rng_(seed ^ 0x7472616e736974ULL),
        time_rng_(seed ^ 0x74696d65ULL),
        return_rng_(seed ^ 0x72657475726eULL),
        rules_rng_(seed ^ 0x72756c6573ULL),
        postings_rng_(seed ^ 0x706f7374696e6773ULL),
        expiry_rng_(seed ^ 0x657870697279ULL),
        config_(make_config()),
        system_(*config_),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(system_.scheduler())) {
    result_.seed = seed;
    // Nothing runs the actors once the schedule is over: do not wait for them at destruction.
    system_.await_actors_before_shutdown(false);
    domain::seed_uuids_for_simulation(seed);
    sched_.clock().current_time += std::chrono::hours(1);
    ModelState state;
    for (int i = 0; i < options_.accounts; ++i) {
      const int64_t initial = static_cast<int64_t>(pick(4)) * 5'000;  // 0, 50.00, 100.00, 150.00
      accounts_.push_back(account_id(i));
      state.balances[accounts_.back()] = initial;
      // Account rules: half the accounts start with an overdraft line of 50.00 .. 150.00.
      int64_t line = 0;
      if (options_.account_rules && rules_rng_() % 2 == 0) {
        line = static_cast<int64_t>(5 + rules_rng_() % 11) * 1'000;
        initial_rules_[accounts_.back()].overdraft_limit = line;
      }
      initial_balance_[accounts_.back()] = initial;
      history_[accounts_.back()].push_back({0, initial + line});
      initial_total_ += initial;
    }
    if (options_.postings) open_second_currency(state);
    state.rules = initial_rules_;
    unknown_ = account_id(99);
    // One to three write lanes, drawn from a generator of its own (the seed's other choices stay
    // what they were before lanes existed).
    const size_t lanes = 1 + static_cast<size_t>(std::mt19937_64(seed ^ 0x6c616e6573ULL)() % 3);
    model_ = std::make_shared<ModelLedger>(std::move(state), lanes);
    model_->set_clock([this] { return now_ms(); });
    model_->shared_state().now_ms = now_ms();
    model_->on_commit = [this](const persistence::OwnershipClaim& claim) {
      record_available();
      if (expiry_) expiry_->note_commit(model_->state(), now_ms());
      check_rules_held_now();
      if (across_) across_->after_commit();
      // Must stay 0: the fence. After the owner change, a batch that claimed the moved partition
      // (necessarily at a stale epoch), or claimed nothing (the unfenced control), must not commit.
      // One that did not claim it (sent while the group had moved it away) may, if it does not
      // touch it.
      const bool claimed_moved =
          std::any_of(claim.epochs.begin(), claim.epochs.end(),
                      [this](const auto& e) { return e.first == moved_partition_; });
      if (moved_ && !learned_ && (claim.instance_id.empty() || claimed_moved)) {
        ++commits_after_move_;
      }
    };
    // The simulated instance owns every partition, as a single instance does at start, except,
    // with two owners, the partitions of the remote accounts, which the other instance owns.
    if (options_.two_owners) choose_remote_accounts();
    if (options_.postings) {
      posting_client_.emplace(postings_rng_(),
                              PostingAccounts{accounts_, second_, remote_, unknown_});
    }
    auto& shared = model_->shared_state();
    shared.create_partitions(domain::kDefaultPartitions);
    persistence::OwnershipClaim claim{kThisInstance, {}};
    owned_ =
        std::make_shared<persistence::OwnedPartitions>(kThisInstance, domain::kDefaultPartitions);
    for (int p = 0; p < domain::kDefaultPartitions; ++p) {
      if (remote_partitions_.count(p)) {
        remote_claim_.epochs.push_back({p, shared.take_partition(p, kOtherInstance)});
        continue;
      }
      claim.epochs.push_back({p, shared.take_partition(p, kThisInstance)});
      owned_->hold(p, claim.epochs.back().second);
    }
    if (!options_.unfenced) model_->set_claim(std::move(claim));
    // Drawn from a generator of its own, so that schedules without an owner change are exactly
    // those of the same seed before owner changes existed.
    if (static_cast<int>(owner_rng_() % 100) < options_.owner_change_percent &&
        options_.faulty_steps > 0) {
      move_at_ = static_cast<int>(owner_rng_() % static_cast<uint64_t>(options_.faulty_steps));
    }
    actors::LedgerOptions ledger_options;
    ledger_options.purge_every = 0ms;
    // Holds are stamped and judged by the virtual clock, the one the model's now() reads (the
    // negative control of --expiry sets the actors' a little off it).
    ledger_options.epoch_ms = [this] { return now_ms() + options_.hold_clock_skew_ms; };
    ledger_options.sweep_holds = options_.expiry;              // over ModelLedgerRecords (below)
    ledger_options.server_check_every = 0ms;                   // the model is one server
    ledger_options.idle_after = std::chrono::hours(24 * 365);  // retirement is the seed's choice
    ledger_options.max_batch = 1 + pick(4);
    ledger_options.max_stash_per_account = pick(3) == 0 ? 2 : 1'000;  // back-pressure
    ledger_options.request_deadline = std::chrono::milliseconds(100 + pick(400));
    deadline_ms_ = ledger_options.request_deadline.count();
    draw_time_and_retention(ledger_options);
    if (!remote_.empty()) {
      // Beyond one machine: transfers to remote accounts settle across owners; the credits of
      // transfers from them are found and applied by this instance's receiver.
      ledger_options.owned = owned_;
      ledger_options.arrivals_every = std::chrono::milliseconds(50 + pick(100));
    } else {
      ledger_options.arrivals_every = 0ms;
    }
    // Postings with two owners: transactions across owners, both ways (generators of their own).
    // The resolver of holds of transactions never runs by itself here: the simulation runs it.
    ledger_options.resolve_every = 0ms;
    if (options_.postings && !remote_.empty()) {
      across_.emplace(seed, other_instance(),
                      [this](const std::string& account) { return owned_->owns(account); });
      ledger_options.remote_holds = across_->remote_holds();
    }
    if (options_.expiry || options_.reads) {
      records_ = std::make_shared<ModelLedgerRecords>(model_);
      records_->set_lagging_history(options_.lagging_history);
      records_->set_stalls(options_.reads);
    }
    if (options_.expiry) expiry_.emplace();
    ledger_ = std::make_unique<actors::Ledger>(system_, records_, model_, ledger_options);
    if (options_.reads) start_reads(seed);
    if (across_) {
      std::vector<std::string> payers = accounts_, payees = accounts_;
      payers.insert(payers.end(), second_.begin(), second_.end());
      payees.insert(payees.end(), second_.begin(), second_.end());
      payees.insert(payees.end(), remote_.begin(), remote_.end());
      across_->start(ledger_.get(), std::move(payers), std::move(payees));
    }
    fail_percent_ = static_cast<int>(pick(4)) * 8;  // 0..24 % of completions are faults
  }

  ~Simulation() {
    ledger_->stop();
    sched_.run(100'000);
  }

  ScheduleResult run() {
    note("deadline " + std::to_string(deadline_ms_) + " ms, idempotency TTL " +
         (ttl_ms_ > 0 ? std::to_string(ttl_ms_) + " ms" : std::string("24 h")) + ", stalls " +
         std::to_string(stall_percent_) + " %, lookups kept " + std::to_string(cache_));
    for (; step_ < options_.faulty_steps; ++step_) {
      if (step_ == move_at_) change_owner();
      if (!remote_.empty()) remote_step();
      if (across_) across_->step();
      if (reads_) reads_->step();
      faulty_step();
    }
    int settled_at = settle();
    if (settled_at >= 0 && expiry_) settled_at = let_holds_expire();
    for (const auto& violation : model_->violations()) fail("writer: " + violation);
    if (settled_at < 0) {
      fail("liveness: not quiet after " + std::to_string(options_.settle_steps) +
           " fault-free steps (" + std::to_string(unanswered()) + " requests unanswered, " +
           std::to_string(model_->pending().size()) + " store operations pending, " +
           std::to_string(sched_.jobs.size()) + " actors with mail)");
      check_across_owners();  // what it left unsettled, if anything
    } else {
      check_answers();
      check_model();
      check_keys();
      check_refusals();
      if (options_.stalls) {
        for (auto& failure : check_deadlines(ops_, deadline_ms_)) fail(std::move(failure));
      }
      for (auto& failure : check_retention(ops_, model_->state().outcome_log, ttl_ms_)) {
        fail(std::move(failure));
      }
      check_hold_winners();
      check_actors();
      check_fence();
      check_rules();
      check_postings();
      check_across_owners();
      check_expiry();
      check_reads_answered();
    }
    result_.steps = step_;
    if (records_) result_.records_calls = records_->calls();
    result_.owner_changed = moved_;
    result_.fenced_batches = ledger_->gauges().commits_fenced.load();
    result_.received_across = static_cast<int>(incoming_.size() + incoming_postings_.size());
    for (const auto& op : ops_) {
      if (op->kind == ClientOp::Kind::transfer && op->reply.status() == 200 &&
          std::find(remote_.begin(), remote_.end(), op->to) != remote_.end()) {
        ++result_.sent_across;
      }
    }
    result_.operations = static_cast<int>(ops_.size());
    for (const auto& op : ops_) {
      ++result_.answers[std::string(endpoint(op->kind)) + " " + std::to_string(op->reply.status())];
    }
    result_.ok = result_.failures.empty();
    if (!result_.ok || options_.trace) {
      for (const auto& op : ops_) {
        note("answer to client #" + std::to_string(op->id) + " (" + std::to_string(op->replies) +
             " replies, step " + std::to_string(op->answered_step) + ", sent at " +
             std::to_string(op->sent_ms) + " ms, answered at " + std::to_string(op->answered_ms) +
             " ms" +
             (op->handed_ms >= 0 ? ", to the writer at " + std::to_string(op->handed_ms) + " ms"
                                 : std::string()) +
             "): " + std::to_string(op->reply.status()) + " " + op->reply.body() +
             (op->reply.replayed ? " [replayed]" : ""));
      }
    }
    if (result_.ok && !options_.trace) result_.trace.clear();
    return std::move(result_);
  }

 private:
  static std::unique_ptr<caf::actor_system_config> make_config() {
    auto cfg = std::make_unique<caf::actor_system_config>();
    cfg->set("scheduler.policy", caf::atom("testing"));
    cfg->set("logger.file-verbosity", caf::atom("quiet"));
    cfg->set("logger.console-verbosity", caf::atom("quiet"));
    return cfg;
  }

  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // What each account could spend after a commit: balance + overdraft line - pending holds (SPEC
  // section 8).
  void record_available() {
    const auto& state = model_->state();
    for (const auto& user : accounts_) {
      int64_t held = 0;
      for (const auto& [id, hold] : state.holds) {
        if (hold.from_user_id == user && hold.status == "pending") held += hold.amount;
      }
      const int64_t available =
          state.balances.at(user) + state.rules_of(user).overdraft_limit - held;
      auto& points = history_[user];
      if (points.empty() || points.back().second != available) points.push_back({step_, available});
    }
  }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               sched_.clock().current_time.time_since_epoch())
        .count();
  }

  // Issue 23's time: stalls of lookups in some schedules, a short idempotency TTL (1-3 s) and, in
  // half the schedules, a memory of a few outcomes only, so that keys come back from the store
  // with their age; loads that answer later than they read (returning partitions).
  void draw_time_and_retention(actors::LedgerOptions& ledger_options) {
    if (options_.stalls) stall_percent_ = static_cast<int>(time_rng_() % 3) * 6;  // 0, 6, 12 %
    if (options_.retention) {
      ledger_options.idempotency_ttl = std::chrono::seconds(1 + time_rng_() % 3);
      ttl_ms_ = static_cast<int64_t>(ledger_options.idempotency_ttl.count()) * 1'000;
      if (time_rng_() % 2 == 0) ledger_options.idempotency_cache = 1 + time_rng_() % 3;
      model_->set_retention(ttl_ms_, options_.early_forgetting ? ttl_ms_ / 2 : 0);
    }
    cache_ = ledger_options.idempotency_cache;
    if (options_.returns) {
      model_->set_late_replies(
          25, [this](int percent) { return static_cast<int>(return_rng_() % 100) < percent; });
    }
  }

  // Whether a store operation may complete now: not stalled, and not the late reply of a load of
  // an account whose partition is away or back without its notice yet (that reply, read before
  // the other instance's commits, then reaches an actor that hears of the move while it loads).
  bool ready(const ModelLedger::Pending& op) {
    if (op.parked_until_ms > now_ms()) return false;
    if (!op.late_reply || !options_.returns) return true;
    const int partition = domain::partition_of(op.account, domain::kDefaultPartitions);
    return partition != away_partition_ && partition != returning_partition_;
  }

  size_t ready_store_operations() {
    const auto& pending = model_->pending();
    return static_cast<size_t>(std::count_if(pending.begin(), pending.end(),
                                             [this](const auto& op) { return ready(op); }));
  }

  // Time passes while the instance works normally: every message is delivered and every store
  // operation not stalled completes before the clock moves on by 100 ms, for 0.3 to 2.5 s; a
  // stalled lookup stays pending meanwhile. The deadline check's clean setting: an answer is late
  // only because the protocol let it wait, never because the schedule starved an actor.
  void quiet_spell() {
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
  void note_submission(caf::scheduled_actor& actor) {
    if (ops_.empty() || std::strcmp(actor.name(), actors::WriterState::name) != 0) return;
    auto* next = actor.mailbox().peek();
    if (!next) return;
    auto& content = next->content();
    if (!content.match_elements<actors::submit_atom, actors::WriteRequest>()) return;
    note_handover(ops_, content.get_as<actors::WriteRequest>(1).mutation, now_ms());
  }

  void note(std::string line) {
    result_.trace.push_back("[" + std::to_string(step_) + "] " + std::move(line));
  }
  void fail(std::string what) { result_.failures.push_back(std::move(what)); }

  // ---- the schedule ----------------------------------------------------------------------------

  void faulty_step() {
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
  int settle() {
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
  std::optional<std::vector<actors::AccountSnapshot>> inspect_accounts() {
    std::optional<std::vector<actors::AccountSnapshot>> seen;
    ledger_->inspect(
        {std::nullopt, [&seen](std::vector<actors::AccountSnapshot> s) { seen = std::move(s); }});
    for (int i = 0; i < 100'000 && !seen && sched_.has_job(); ++i) sched_.run_once();
    return seen;
  }

  // Whether an account actor still has work in flight or stashed (the registry inspects them).
  bool accounts_busy() {
    auto seen = inspect_accounts();
    return seen && std::any_of(seen->begin(), seen->end(),
                               [](const auto& a) { return a.stashed != 0 || a.in_flight != 0; });
  }

  void deliver() {
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

  void complete_store_operation(bool faults) {
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

  void retire() {
    const auto& user = !second_.empty() && postings_rng_() % 4 == 0
                           ? second_[postings_rng_() % second_.size()]
                           : accounts_[pick(accounts_.size())];
    note("retire " + user.substr(24));
    ledger_->retire(user);
  }

  const std::string& any_account() {
    if (chance(3)) return unknown_;
    return accounts_[pick(accounts_.size())];
  }

  // `payer`: a request paid by (or deposited to) this account (a client retrying as soon as the
  // account's partition is served again), neither a duplicate nor aimed at a hold.
  void send_operation(const std::string* payer = nullptr) {
    auto op = std::make_shared<ClientOp>();
    op->id = static_cast<int>(ops_.size());
    op->sent_step = step_;
    op->sent_ms = now_ms();
    op->sent_commit = model_->state().commits;
    // A duplicate (same key, usually the same body: a retry; sometimes another body: misuse).
    const ClientOp* original = nullptr;
    if (!payer && !keyed_.empty() && chance(30)) original = ops_[keyed_[pick(keyed_.size())]].get();
    if (original && !chance(15)) {
      op->kind = original->kind;
      op->from = original->from;
      op->to = original->to;
      op->amount = original->amount;
      op->hold_id = original->hold_id;
      op->hold_known = model_->state().holds.count(op->hold_id) > 0;
      if (posts(op->kind)) posting_client_->repeat(*op, *original, model_->state());
    } else if (!payer && !original && options_.account_rules && rules_rng_() % 100 < 20) {
      aim_at_rules(*op);
    } else if (!payer && options_.postings && postings_rng_() % 100 < 40) {
      posting_client_->aim(*op, model_->state());
    } else if (!payer && options_.release2 && chance(options_.expiry ? 45 : 25) &&
               (!model_->state().holds.empty() || chance(10))) {
      aim_at_hold(*op, original);
    } else {
      const int roll = static_cast<int>(pick(100));
      const int mutations = options_.release2 ? 100 : 75;  // withdrawals, holds: opt-in
      op->kind = roll * mutations / 100 < 50   ? ClientOp::Kind::transfer
                 : roll * mutations / 100 < 75 ? ClientOp::Kind::deposit
                 : roll < 87                   ? ClientOp::Kind::withdraw
                                               : ClientOp::Kind::hold;
      op->from = payer ? *payer : any_account();
      do {
        op->to = accounts_[pick(accounts_.size())];
      } while (op->to == op->from);
      // Beyond one machine: a payee of the other instance (from a generator of its own).
      if (!remote_.empty() && transit_rng_() % 4 == 0) op->to = remote_[transit_rng_() % 2];
      op->amount = static_cast<int64_t>(1 + pick(12)) * 1'000;  // 10.00 .. 120.00
      // Expiry: more holds (their own generator: the seed's other choices stay as they were).
      if (options_.expiry && op->from != unknown_ && expiry_rng_() % 4 == 0) {
        op->kind = ClientOp::Kind::hold;
      }
    }
    if (updates_account(op->kind)) {
      // PATCH /accounts/{id} takes no Idempotency-Key.
    } else if (original && original->kind == op->kind && op->hold_id == original->hold_id) {
      op->tag = actors::IdempotencyTag{original->tag->endpoint, original->tag->key, hash(*op)};
    } else if (chance(50)) {
      const std::string key = "k" + std::to_string(op->id);
      op->tag = actors::IdempotencyTag{tag_endpoint(*op), key, hash(*op)};
      keyed_.push_back(op->id);
    }
    auto reply = [this, op](Reply answer) {
      ++op->replies;
      op->answered_step = step_;
      op->answered_ms = now_ms();
      op->answered_commit = model_->state().commits;
      op->reply = std::move(answer);
      check_hold_refusal(*op);
    };
    note(describe(*op));
    note_duplicate(ops_, *op, now_ms());
    ops_.push_back(op);
    switch (op->kind) {
      case ClientOp::Kind::transfer:
        ledger_->transfer({op->from, op->to, op->amount, op->tag, reply});
        break;
      case ClientOp::Kind::deposit:
        ledger_->deposit({op->from, op->amount, op->tag, reply});
        break;
      case ClientOp::Kind::withdraw:
        ledger_->withdraw({op->from, op->amount, op->tag, reply});
        break;
      case ClientOp::Kind::hold:
        ledger_->create_hold({op->from, op->to, op->amount, hold_timeout_s(), op->tag, reply});
        break;
      case ClientOp::Kind::capture:
        ledger_->capture_hold(op->hold_id,
                              op->amount == 0 ? std::nullopt : std::optional<int64_t>(op->amount),
                              op->tag, reply);
        break;
      case ClientOp::Kind::void_hold:
        ledger_->void_hold(op->hold_id, op->tag, reply);
        break;
      case ClientOp::Kind::transaction:
      case ClientOp::Kind::reversal:
        send_transaction(op, reply, kReversalRechecks);
        break;
      case ClientOp::Kind::set_limit:
      case ClientOp::Kind::freeze:
      case ClientOp::Kind::unfreeze:
      case ClientOp::Kind::close: {
        actors::AccountUpdate update;
        update.account_id = op->from;
        if (auto status = requested_status(op->kind)) {
          update.status = persistence::parse_account_status(*status);
        }
        if (op->kind == ClientOp::Kind::set_limit) update.overdraft_limit = op->amount;
        update.reply = reply;
        ledger_->update_account(std::move(update));
        break;
      }
    }
  }

  // PATCH /accounts/{id} (from a generator of its own): a new overdraft line (at times one that
  // would not cover the account's debt), a freeze, an unfreeze, or a closing (half of them of an
  // account at 0, which may pass). Rarely of an account that does not exist.
  void aim_at_rules(ClientOp& op) {
    const auto roll = rules_rng_() % 100;
    op.kind = roll < 35   ? ClientOp::Kind::set_limit
              : roll < 60 ? ClientOp::Kind::freeze
              : roll < 80 ? ClientOp::Kind::unfreeze
                          : ClientOp::Kind::close;
    op.from = rules_rng_() % 40 == 0 ? unknown_ : accounts_[rules_rng_() % accounts_.size()];
    const auto& balances = model_->state().balances;
    if (op.kind == ClientOp::Kind::close && rules_rng_() % 2 == 0) {
      std::vector<const std::string*> empty;
      for (const auto& user : accounts_) {
        if (balances.at(user) == 0) empty.push_back(&user);
      }
      if (!empty.empty()) op.from = *empty[rules_rng_() % empty.size()];
    }
    if (op.kind != ClientOp::Kind::set_limit) return;
    auto it = balances.find(op.from);
    const int64_t debt = it != balances.end() && it->second < 0 ? -it->second : 0;
    if (debt > 0 && rules_rng_() % 3 == 0) {
      op.amount = std::max<int64_t>(0, debt - static_cast<int64_t>(1 + rules_rng_() % 3) * 1'000);
    } else {
      op.amount = static_cast<int64_t>(rules_rng_() % 21) * 1'000;  // 0 .. 200.00
    }
  }

  // A capture or a void, of a committed hold (any status; a new duplicate of an earlier close
  // when `original` is one) or, rarely, of a hold that does not exist. A capture takes all of the
  // hold, or part of it, or (rarely) more than it holds.
  void aim_at_hold(ClientOp& op, const ClientOp* original) {
    op.kind = chance(60) ? ClientOp::Kind::capture : ClientOp::Kind::void_hold;
    const auto& holds = model_->state().holds;
    if (original && (original->kind == ClientOp::Kind::capture ||
                     original->kind == ClientOp::Kind::void_hold)) {
      op.hold_id = original->hold_id;  // the same hold under the same key: another body
    } else if (!holds.empty() && !chance(5)) {
      auto it = holds.begin();
      std::advance(it, static_cast<long>(pick(holds.size())));
      op.hold_id = it->first;
      // Expiry: mostly a hold still pending, to race its expiry and the sweep.
      if (options_.expiry) {
        auto pending = pending_hold(model_->state(), expiry_rng_);
        if (!pending.empty()) op.hold_id = std::move(pending);
      }
    } else {
      op.hold_id = "00000000-0000-4000-8000-00000000dead";
    }
    auto it = holds.find(op.hold_id);
    op.hold_known = it != holds.end();
    if (op.hold_known) {
      op.from = it->second.from_user_id;
      op.to = it->second.to_user_id;
    }
    op.amount = 0;
    if (op.kind == ClientOp::Kind::capture && op.hold_known && chance(50)) {
      op.amount = static_cast<int64_t>(1 + pick(static_cast<uint64_t>(it->second.amount) + 500));
    }
  }

  // As http/transactions_api.cpp: a reversal the HTTP layer refuses on what it read is answered
  // there (through the key's gate when keyed: a retry of a reversal that committed replays its
  // 201); anything else goes to the Ledger. A reversal that waited behind racing ones is answered
  // kRecheck: the HTTP layer reads the transaction again and decides anew, a few times, then
  // answers 503 (nothing changed).
  static constexpr int kReversalRechecks = 5;
  // Every attempt keeps the request's deadline, set once when it arrived (as the HTTP layer does).
  void send_transaction(const std::shared_ptr<ClientOp>& op, actors::ReplyFn reply, int rechecks,
                        actors::Deadline deadline = actors::kNoDeadline) {
    if (deadline == actors::kNoDeadline) deadline = ledger_->deadline_from_now();
    if (op->refusal) {
      if (op->tag) return ledger_->refuse(*op->tag, *op->refusal, std::move(reply), deadline);
      return reply(Reply{domain::Refused{*op->refusal}});
    }
    auto command = PostingClient::command(*op);
    command.deadline = deadline;
    command.reply = [this, op, reply = std::move(reply), rechecks, deadline](Reply answer) {
      if (answer.status() != actors::kRecheck) return reply(std::move(answer));
      if (rechecks == 0) {
        return reply(actors::error_reply(
            domain::ErrorCode::unavailable,
            "reversals of this transaction are racing; nothing changed, retry"));
      }
      posting_client_->read_again(*op, model_->state());
      note("client #" + std::to_string(op->id) + " rechecks: " + describe(*op));
      send_transaction(op, reply, rechecks - 1, deadline);
    };
    ledger_->transact(std::move(command));
  }

  // Capture and void keys are scoped per hold, as in http/holds_api.cpp.
  static std::string tag_endpoint(const ClientOp& op) {
    if (posts(op.kind)) return PostingClient::tag_endpoint(op);
    if (op.hold_id.empty()) return endpoint(op.kind);
    return "holds/" + op.hold_id + endpoint(op.kind);
  }

  static std::string hash(const ClientOp& op) {
    if (posts(op.kind)) return PostingClient::request_hash(op);
    return std::string(endpoint(op.kind)) + "|" + op.from + "|" + op.to + "|" +
           std::to_string(op.amount) + "|" + op.hold_id;
  }

  static std::string describe(const ClientOp& op) {
    auto tail = [](const std::string& id) { return id.size() > 24 ? id.substr(24) : id; };
    if (posts(op.kind)) {
      std::string text = "client #" + std::to_string(op.id) + ": " + endpoint(op.kind);
      if (!op.reverses.empty()) {
        text += " of " + op.reverses.substr(0, 8) + " (asked " +
                (op.asked > 0 ? money(op.asked) : std::string("all")) + ", read " +
                std::to_string(op.read_reversed) + " reversed of " + std::to_string(op.reversible) +
                ")";
      }
      for (const auto& p : op.postings) {
        text += " " + tail(p.from) + "->" + tail(p.to) + " " + money(p.amount) + " " + p.currency;
      }
      if (op.refusal) text += " refused by the HTTP layer: " + op.refusal->message;
      if (op.tag) text += " key=" + op.tag->key;
      return text;
    }
    if (updates_account(op.kind)) {
      return "client #" + std::to_string(op.id) + ": " + endpoint(op.kind) + " " + tail(op.from) +
             (op.kind == ClientOp::Kind::set_limit ? " " + money(op.amount) : std::string());
    }
    std::string text = "client #" + std::to_string(op.id) + ": " + endpoint(op.kind) + " " +
                       tail(op.from) + "->" + tail(op.to) + " " + money(op.amount);
    if (!op.hold_id.empty()) text += " hold " + op.hold_id;
    if (op.tag) text += " key=" + op.tag->key;
    return text;
  }

  int unanswered() const {
    int n = 0;
    for (const auto& op : ops_) n += op->replies == 0;
    return n;
  }

  // ---- beyond one machine ----------------------------------------------------------------------

  static constexpr const char* kThisInstance = "sim-a";
  static constexpr const char* kOtherInstance = "sim-b";

  bool moved_account(const std::string& user) const {
    return moved_ && domain::partition_of(user, domain::kDefaultPartitions) == moved_partition_;
  }

  // Another instance takes the partition of one account (its epoch bumped), unknown to the
  // simulated one, and may commit a deposit there as its new owner, through the same fence.
  void change_owner() {
    auto& shared = model_->shared_state();
    const auto& user = accounts_[owner_rng_() % accounts_.size()];
    // Not a partition the group has just moved away (this instance must claim it, at the epoch
    // the other instance's take makes stale, for the fence check below to mean anything).
    const int partition = domain::partition_of(user, domain::kDefaultPartitions);
    if (partition == away_partition_ || partition == returning_partition_) return;
    moved_partition_ = domain::partition_of(user, domain::kDefaultPartitions);
    const int64_t epoch = shared.take_partition(moved_partition_, kOtherInstance);
    moved_epoch_ = epoch;
    moved_ = true;
    note("owner change: partition " + std::to_string(moved_partition_) + " (account " +
         user.substr(24) + ") taken by " + kOtherInstance + " at epoch " + std::to_string(epoch));
    if (owner_rng_() % 2 != 0) return;
    // A closed account takes no deposit: the new owner's actor refuses it.
    if (shared.rules_of(user).status == persistence::AccountStatus::closed) return;
    persistence::LedgerMutation deposit;
    const int64_t balance = shared.balances.at(user);
    deposit.entries.push_back({domain::new_uuid_v4(), user, 5'000, balance, balance + 5'000,
                               persistence::EntryKind::deposit, ""});
    const persistence::OwnershipClaim claim{kOtherInstance, {{moved_partition_, epoch}}};
    std::string why;
    if (shared.commit({&deposit}, &claim, &why) != persistence::ApplyStatus::committed) {
      fail("the new owner could not commit in its own partition: " + why);
      return;
    }
    foreign_rows_.insert(deposit.entries.front().id);
    note_foreign_commit();
    note(std::string(kOtherInstance) + " deposits 50.00 into " + user.substr(24));
  }

  // Two owners: remote accounts live in partitions of the other instance (none shared with a
  // local account or the unknown one), with money of their own.
  void choose_remote_accounts() {
    std::set<int> local;
    for (const auto& user : accounts_)
      local.insert(domain::partition_of(user, domain::kDefaultPartitions));
    for (const auto& user : second_)
      local.insert(domain::partition_of(user, domain::kDefaultPartitions));
    local.insert(domain::partition_of(unknown_, domain::kDefaultPartitions));
    for (int i = 90; i < 99 && remote_.size() < 2; ++i) {
      const auto id = account_id(i);
      const int partition = domain::partition_of(id, domain::kDefaultPartitions);
      if (local.count(partition)) continue;
      remote_.push_back(id);
      remote_partitions_.insert(partition);
      local.insert(partition);  // one remote account per partition
    }
    if (remote_.size() < 2) {
      remote_.clear();
      remote_partitions_.clear();
      return;
    }
    auto& shared = model_->shared_state();
    for (const auto& id : remote_) {
      shared.balances[id] = 50'000;  // 500.00
      history_[id].push_back({0, 50'000});
      initial_balance_[id] = 50'000;
      initial_total_ += 50'000;
    }
  }

  // The other instance at work, at random faulty steps: it sends a transfer from a remote account
  // to a local one (its debit with the in-transit row: this instance's receiver must credit it
  // exactly once), or credits what is in transit to its own accounts.
  void remote_step() {
    if (step_ == back_at_) take_back();
    if (step_ == notice_at_) send_move_notice();
    if (other_holds_away_ && return_rng_() % 100 < 8) commit_while_away();
    if (returning_partition_ >= 0 && return_rng_() % 100 < 40) retry_into(returning_partition_);
    const auto roll = transit_rng_() % 100;
    if (roll < 2) {
      send_incoming();
    } else if (roll < 5) {
      credit_remote_arrivals();
    } else if (roll < 6 && away_partition_ < 0 && returning_partition_ < 0) {
      give_away();
    }
  }

  // The group moves one of this instance's partitions away and, some steps later, back (as a
  // cooperative rebalance does when an instance joins and leaves): given up (stops serving,
  // idle actors retire) at once, then taken again at a new epoch (its actors still loaded must
  // reload). Commits in flight with the old epoch are fenced, as they would be.
  void give_away() {
    const auto& user = accounts_[transit_rng_() % accounts_.size()];
    const int partition = domain::partition_of(user, domain::kDefaultPartitions);
    if (moved_ && partition == moved_partition_) return;
    away_partition_ = partition;
    back_at_ = step_ + 1 + static_cast<int>(transit_rng_() % 60);
    note("the group moves partition " + std::to_string(partition) + " away from sim-a");
    ledger_->give_up_partitions({partition}, 0ms);
    set_claimed(partition, std::nullopt);
    if (options_.returns && return_rng_() % 4 != 0) {
      // Another instance takes it meanwhile and moves money of its accounts: what this instance
      // still remembers of them is stale when the partition comes back.
      other_epoch_ = model_->shared_state().take_partition(partition, kOtherInstance);
      other_holds_away_ = true;
      note(std::string(kOtherInstance) + " takes partition " + std::to_string(partition) +
           " at epoch " + std::to_string(other_epoch_));
      commit_while_away();
    }
  }

  // The other instance, holding the partition given away, deposits into (mostly: a stale memory
  // then refuses what Postgres allows) or withdraws from one of its accounts.
  void commit_while_away() {
    std::vector<std::string> theirs;
    for (const auto& user : accounts_) {
      if (domain::partition_of(user, domain::kDefaultPartitions) == away_partition_) {
        theirs.push_back(user);
      }
    }
    if (theirs.empty()) return;
    auto& shared = model_->shared_state();
    const auto& user = theirs[return_rng_() % theirs.size()];
    if (options_.account_rules && rules_rng_() % 4 == 0) return change_rules_while_away(user);
    const bool deposit = return_rng_() % 4 != 0;
    const int64_t change =
        (deposit ? 1 : -1) * static_cast<int64_t>(1 + return_rng_() % 15) * 1'000;
    const int64_t balance = shared.balances.at(user);
    persistence::LedgerMutation mutation;
    mutation.entries.push_back(
        {domain::new_uuid_v4(), user, change, balance, balance + change,
         deposit ? persistence::EntryKind::deposit : persistence::EntryKind::withdrawal, ""});
    const persistence::OwnershipClaim claim{kOtherInstance, {{away_partition_, other_epoch_}}};
    shared.now_ms = now_ms();
    if (shared.commit({&mutation}, &claim, nullptr) != persistence::ApplyStatus::committed) {
      return;  // not enough money there: the other instance refuses it
    }
    foreign_rows_.insert(mutation.entries.front().id);
    note_foreign_commit();
    note(std::string(kOtherInstance) + (deposit ? " deposits " : " withdraws ") +
         money(deposit ? change : -change) + (deposit ? " into " : " from ") + user.substr(24));
  }

  // The other instance, holding the partition given away, freezes or unfreezes one of its
  // accounts: what this instance remembers of that account's status is stale when it comes back.
  void change_rules_while_away(const std::string& user) {
    auto& shared = model_->shared_state();
    const auto status = shared.rules_of(user).status;
    if (status == persistence::AccountStatus::closed) return;
    // Its actor refuses to freeze an account paying in a transaction across owners (a pending
    // hold of a transaction): the capture must be able to apply once it is decided `commit`.
    const bool paying = std::any_of(shared.holds.begin(), shared.holds.end(), [&](const auto& h) {
      return h.second.from_user_id == user && h.second.status == "pending" &&
             !h.second.transaction_id.empty();
    });
    if (status == persistence::AccountStatus::open && paying) return;
    persistence::LedgerMutation mutation;
    persistence::AccountChange change;
    change.account_id = user;
    change.status = status == persistence::AccountStatus::frozen ? "open" : "frozen";
    mutation.account_changes.push_back(std::move(change));
    const persistence::OwnershipClaim claim{kOtherInstance, {{away_partition_, other_epoch_}}};
    shared.now_ms = now_ms();
    if (shared.commit({&mutation}, &claim, nullptr) != persistence::ApplyStatus::committed) return;
    note_foreign_commit();
    note(std::string(kOtherInstance) +
         (status == persistence::AccountStatus::frozen ? " unfreezes " : " freezes ") +
         user.substr(24));
  }

  // A commit of the other instance: no client of this one is answered for it, and the rules must
  // hold after it too.
  void note_foreign_commit() {
    foreign_commits_.insert(model_->state().commits);
    record_available();
    check_rules_held_now();
    if (across_) across_->after_commit();
  }

  // ---- across owners (across_owners.hpp) -------------------------------------------------------

  OtherInstance other_instance() {
    OtherInstance other;
    other.model = model_.get();
    other.claim = [this] {
      auto claim = remote_claim_;
      if (moved_) claim.epochs.push_back({moved_partition_, moved_epoch_});
      if (away_served()) claim.epochs.push_back({away_partition_, other_epoch_});
      return claim;
    };
    other.accounts = remote_;
    other.serves = [this](const std::string& account) {
      const int partition = domain::partition_of(account, domain::kDefaultPartitions);
      return moved_account(account) || (away_served() && partition == away_partition_) ||
             std::find(remote_.begin(), remote_.end(), account) != remote_.end();
    };
    other.now_ms = [this] { return now_ms(); };
    other.note = [this](std::string line) { note(std::move(line)); };
    other.committed = [this](const persistence::LedgerMutation& mutation) {
      for (const auto& e : mutation.entries) foreign_rows_.insert(e.id);
      note("store: commit " + std::to_string(model_->state().commits) + " (sim-b)");
      note_foreign_commit();
    };
    return other;
  }

  // Whether the other instance settles holds of transactions in the partition given away to it
  // (--across-away; see SimulationOptions::across_away).
  bool away_served() const { return options_.across_away && other_holds_away_; }

  void check_across_owners() {
    if (!across_) return;
    across_->check(
        ops_, [this](std::string failure) { fail(std::move(failure)); }, result_.across_committed,
        result_.across_aborted, result_.owned_committed, result_.owned_aborted);
  }

  void check_rules_held_now() {
    if (!rules_failures_.empty()) return;  // the first commit that broke them tells
    rules_failures_ = check_rules_held(model_->state());
  }

  void take_back() {
    auto& shared = model_->shared_state();
    const int partition = away_partition_;
    away_partition_ = back_at_ = -1;
    const int64_t epoch = shared.take_partition(partition, kThisInstance);
    set_claimed(partition, epoch);
    note("the group gives partition " + std::to_string(partition) + " back to sim-a at epoch " +
         std::to_string(epoch));
    other_holds_away_ = false;
    if (!options_.notice_after_serving) {
      // As Ledger::take_partitions does it: the registry hears first, then the partition is
      // served (sometimes while its actors are being retired).
      retire_as_notice_comes(partition);
      note("sim-a serves partition " + std::to_string(partition) + " (its registry told first)");
      ledger_->serve_partition(partition, epoch);
      return;
    }
    // The negative control: served at once, the registry told some steps later, so requests
    // admitted in between reach actors that have not heard of the move.
    owned_->hold(partition, epoch);
    returning_partition_ = partition;
    notice_at_ = options_.returns ? step_ + static_cast<int>(return_rng_() % 12) : step_;
    if (notice_at_ == step_) send_move_notice();
  }

  // A client whose request was refused while the partition was away retries as soon as it is
  // served again (before the registry has heard it, possibly).
  void retry_into(int partition) {
    if (static_cast<int>(ops_.size()) >= options_.max_operations) return;
    std::vector<const std::string*> theirs;
    for (const auto& user : accounts_) {
      if (domain::partition_of(user, domain::kDefaultPartitions) == partition)
        theirs.push_back(&user);
    }
    if (!theirs.empty()) send_operation(theirs[return_rng_() % theirs.size()]);
  }

  // The registry hears that the partition is back; sometimes while its actors are being retired
  // (the registry's `retiring` entries).
  void send_move_notice() {
    const int partition = returning_partition_;
    returning_partition_ = notice_at_ = -1;
    retire_as_notice_comes(partition);
    note("sim-a's registry hears that partition " + std::to_string(partition) + " is back");
    caf::anon_send(ledger_->registry_for_tests(), actors::moved_atom::value, partition,
                   domain::kDefaultPartitions, true);
  }

  // Sometimes the partition's accounts are being retired as the notice comes (the registry's
  // `retiring` entries).
  void retire_as_notice_comes(int partition) {
    if (!options_.returns || return_rng_() % 3 != 0) return;
    for (const auto& user : accounts_) {
      if (domain::partition_of(user, domain::kDefaultPartitions) != partition) continue;
      note("retire " + user.substr(24) + " as the notice comes");
      ledger_->retire(user);
    }
  }

  // The claim the simulated instance's commits carry, for one partition (none: not claimed).
  void set_claimed(int partition, std::optional<int64_t> epoch) {
    if (options_.unfenced) return;
    auto claim = model_->claim();
    claim.epochs.erase(std::remove_if(claim.epochs.begin(), claim.epochs.end(),
                                      [partition](const auto& e) { return e.first == partition; }),
                       claim.epochs.end());
    if (epoch) claim.epochs.push_back({partition, *epoch});
    model_->set_claim(std::move(claim));
  }

  void send_incoming() {
    auto& shared = model_->shared_state();
    const auto& payer = remote_[transit_rng_() % remote_.size()];
    const auto& payee = accounts_[transit_rng_() % accounts_.size()];
    const int64_t amount = static_cast<int64_t>(1 + transit_rng_() % 5) * 1'000;
    const int64_t balance = shared.balances.at(payer);
    int64_t held = 0;  // its payer's holds of transactions across owners
    for (const auto& [id, hold] : shared.holds) {
      if (hold.from_user_id == payer && hold.status == "pending") held += hold.amount;
    }
    if (balance - held < amount) return;
    // Its payee check (Ledger::start_transfer across owners) refuses a closed payee.
    if (shared.rules_of(payee).status == persistence::AccountStatus::closed) return;
    persistence::LedgerMutation debit;
    const std::string transfer_id = domain::new_uuid_v4();
    debit.entries.push_back({domain::new_uuid_v4(), payer, -amount, balance, balance - amount,
                             persistence::EntryKind::transfer_debit, transfer_id});
    debit.departures.push_back({transfer_id,
                                payer,
                                payee,
                                amount,
                                domain::partition_of(payee, domain::kDefaultPartitions),
                                {}});
    // Postings: half of them a transaction of one posting instead (its credit row names it).
    const bool posting = options_.postings && postings_rng_() % 2 == 0;
    if (posting) send_as_posting(debit);
    std::string why;
    if (shared.commit({&debit}, &remote_claim_, &why) != persistence::ApplyStatus::committed) {
      fail("the other instance could not send a transfer: " + why);
      return;
    }
    foreign_rows_.insert(debit.entries.front().id);
    note_foreign_commit();
    if (posting) {
      incoming_postings_.insert(debit.transactions.front().transaction_id);
      note(std::string(kOtherInstance) + " sends a transaction of " + money(amount) + " from " +
           payer.substr(24) + " to " + payee.substr(24) + " (" +
           debit.transactions.front().transaction_id.substr(0, 8) + ")");
      return;
    }
    incoming_.insert(transfer_id);
    note(std::string(kOtherInstance) + " sends " + money(amount) + " from " + payer.substr(24) +
         " to " + payee.substr(24) + " (in transit " + transfer_id.substr(0, 8) + ")");
  }

  // The other instance's transaction of one posting from its account to one of this instance's,
  // as its posting coordinator commits it: the debit row and the transaction's record with the
  // credit's in-transit row (this instance's receiver writes the credit row, naming them).
  void send_as_posting(persistence::LedgerMutation& debit) {
    const std::string transaction_id = domain::new_uuid_v4();
    auto& row = debit.entries.front();
    auto& leg = debit.departures.front();
    row.kind = persistence::EntryKind::posting_debit;
    row.transfer_id.clear();
    row.transaction_id = leg.transaction_id = transaction_id;
    row.posting = leg.posting = 0;
    persistence::TransactionRecord record;
    record.transaction_id = transaction_id;
    record.postings = postings_text({{leg.from_user_id, leg.to_user_id, leg.amount,
                                      model_->state().currency_of(leg.from_user_id)}});
    record.created_at = "2026-12-06T00:00:00.000Z";
    debit.transactions.push_back(std::move(record));
  }

  // The other instance credits every transfer in transit to its accounts; returns how many.
  int credit_remote_arrivals() {
    auto& shared = model_->shared_state();
    std::vector<persistence::InTransit> due;
    // Its own partitions, and the one it took from this instance in an owner change.
    auto claim = remote_claim_;
    if (moved_) claim.epochs.push_back({moved_partition_, moved_epoch_});
    for (const auto& [id, leg] : shared.in_transit) {
      if (remote_partitions_.count(leg.to_partition) ||
          (moved_ && leg.to_partition == moved_partition_)) {
        due.push_back(leg);
      }
    }
    for (const auto& leg : due) {
      persistence::LedgerMutation credit;
      const int64_t balance = shared.balances.at(leg.to_user_id);
      credit.entries.push_back({domain::new_uuid_v4(), leg.to_user_id, leg.amount, balance,
                                balance + leg.amount, persistence::EntryKind::transfer_credit,
                                leg.transfer_id});
      if (!leg.transaction_id.empty()) {
        // A posting's credit names its transaction and posting (as the arrival of
        // transfer_coordinator.cpp writes it).
        auto& entry = credit.entries.back();
        entry.kind = persistence::EntryKind::posting_credit;
        entry.transfer_id.clear();
        entry.transaction_id = leg.transaction_id;
        entry.posting = leg.posting;
      }
      credit.arrivals.push_back(leg);
      std::string why;
      if (shared.commit({&credit}, &claim, &why) != persistence::ApplyStatus::committed) {
        fail("the other instance could not credit " + leg.transfer_id + ": " + why);
        continue;
      }
      foreign_rows_.insert(credit.entries.front().id);
      note_foreign_commit();
      note(std::string(kOtherInstance) + " credits " + money(leg.amount) + " to " +
           leg.to_user_id.substr(24) + " (transfer " + leg.transfer_id.substr(0, 8) + ")");
    }
    return static_cast<int>(due.size());
  }

  // With two owners the schedule ends as the group would end it: the simulated instance hears
  // that the moved partition is gone (it stops serving it and drops it from its claim), so that
  // the credits in transit to its other accounts can land; the other instance credits those of
  // the moved partition. Its commits count against the fence only before this.
  void learn_of_the_move() {
    learned_ = true;
    note("sim-a hears that partition " + std::to_string(moved_partition_) + " moved");
    ledger_->give_up_partitions({moved_partition_}, 0ms);
    set_claimed(moved_partition_, std::nullopt);
  }

  // The fence: after the owner change, not one batch of the former owner committed.
  void check_fence() {
    if (commits_after_move_ > 0) {
      fail("fence: the former owner committed " + std::to_string(commits_after_move_) +
           " batches after another instance took partition " + std::to_string(moved_partition_));
    }
  }

  // ---- the checks ------------------------------------------------------------------------------

  static std::optional<std::string> body_field(const Reply& reply, const char* name) {
    auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains(name) || !doc[name].is_string()) {
      return std::nullopt;
    }
    return doc[name].get<std::string>();
  }

  static std::string error_code(const Reply& reply) {
    auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("error")) return "";
    const auto& error = doc["error"];
    if (!error.is_object() || !error.contains("code") || !error["code"].is_string()) return "";
    return error["code"].get<std::string>();
  }

  // Every request answered exactly once; 200 only for what committed; everything that committed
  // was answered 200 to someone (never 503 for work that may commit).
  void check_answers() {
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
      auto id = body_field(
          op->reply, op->kind == ClientOp::Kind::transfer || op->kind == ClientOp::Kind::capture
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
        fail("client #" + std::to_string(op->id) + " was told " +
             std::to_string(op->reply.status()) + " for what never committed: " + op->reply.body());
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

  // SPEC.md section 5 on the model: balance = initial + sum(changes); gap-free chains; a transfer
  // is two rows summing to zero; money is conserved; no balance below its overdraft line.
  void check_model() {
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

  // Every key has one outcome, and each answer given under it is that outcome, byte for byte.
  // (A key reused after its retention is a new operation: its answers are those of the outcome
  // stored under it before each answer, as the store's log of outcomes holds them.)
  void check_keys() {
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
        fail("client #" + std::to_string(op->id) + " got " + std::to_string(status) +
             " under key " + op->tag->key + " but no outcome was stored");
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
  void check_refusals() {
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
  bool excused_refusal(const ClientOp& op) const {
    bool moved = moved_account(op.from);
    for (const auto& p : op.postings) moved = moved || moved_account(p.from) || moved_account(p.to);
    return !op.tag && moved && op.answered_step >= move_at_;
  }

  static bool refused_for_rules(const Reply& reply) {
    const auto code = error_code(reply);
    return code == "account_frozen" || code == "account_closed";
  }

  // The rules checks (account_rules_check.hpp), with how much of them the schedule exercised.
  void check_rules() {
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
  void check_hold_winners() {
    std::map<std::string, std::set<std::string>> closings;
    for (const auto& op : ops_) {
      if (op->replies != 1 || op->reply.status() != 200) continue;
      if (op->kind == ClientOp::Kind::capture) {
        closings[op->hold_id].insert("capture " +
                                     body_field(op->reply, "transfer_id").value_or("?"));
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

  // A capture or void of a hold of a transaction across owners (no client may close one).
  bool of_transaction(const ClientOp& op) const {
    if (op.kind != ClientOp::Kind::capture && op.kind != ClientOp::Kind::void_hold) return false;
    auto it = model_->state().holds.find(op.hold_id);
    return it != model_->state().holds.end() && !it->second.transaction_id.empty();
  }

  // When answered: a 409 hold_not_pending is decided on a hold Postgres had closed (holds never
  // reopen, so it is still closed); a 404 hold_not_found only for a hold that was never committed.
  void check_hold_refusal(const ClientOp& op) {
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

  // Transactions of many postings (transaction_check.hpp), in every mode (without postings they
  // check the money per currency), with how much of them the schedule exercised.
  void check_postings() {
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

  // ---- reads (reads_client.hpp, reads_check.hpp) ----------------------------------------------

  void start_reads(uint64_t seed) {
    std::vector<std::string> read = accounts_;
    read.insert(read.end(), second_.begin(), second_.end());
    read.insert(read.end(), remote_.begin(), remote_.end());
    reads_.emplace(
        seed, *ledger_, model_, std::move(read), [this] { return step_; },
        [this] { return now_ms(); }, [this](std::string line) { note(std::move(line)); });
  }

  void check_reads_answered() {
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

  // ---- hold expiry (expiry_check.hpp) ---------------------------------------------------------

  // A client hold's timeout: 1-3 s with --expiry (crossed by the schedule's time), else an hour.
  int64_t hold_timeout_s() {
    return options_.expiry ? 1 + static_cast<int64_t>(expiry_rng_() % 3) : 3600;
  }

  // After the schedule settled: time passes, fault-free, 100 ms at a time with everything drained
  // in between, until every client hold still pending passed its expiry and the sweep had
  // kExpirySlackMs to close it. Returns the step count, or -1 if the work never drains.
  int let_holds_expire() {
    // At least kExpirySlackMs after the settling too: an ExpireHold can be dropped while its
    // account's stash is full (back-pressure), and the sweep's next pass must come while quiet.
    const int64_t until =
        std::max(latest_pending_expiry(model_->state()), now_ms()) + kExpirySlackMs;
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

  void check_expiry() {
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

  // Postings: two accounts of the second currency (an exchange's liquidity account and a client),
  // with 0 .. 150.00 each.
  void open_second_currency(ModelState& state) {
    for (int i = 0; i < 2; ++i) {
      second_.push_back(account_id(20 + i));
      const int64_t initial = static_cast<int64_t>(postings_rng_() % 4) * 5'000;
      state.balances[second_.back()] = initial;
      state.currencies[second_.back()] = kSecondCurrency;
      initial_balance_[second_.back()] = initial;
      history_[second_.back()].push_back({0, initial});
      initial_total_ += initial;
    }
  }

  // Liveness: every actor idle (or unloaded/missing), unlocked, clean, nothing stashed or in
  // flight, and its balance the model's.
  void check_actors() {
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

  SimulationOptions options_;
  std::mt19937_64 rng_;
  std::mt19937_64 owner_rng_;
  int move_at_ = -1;  // the faulty step of the owner change; -1: none in this schedule
  bool moved_ = false;
  int moved_partition_ = -1;
  int64_t moved_epoch_ = 0;
  bool learned_ = false;     // two owners: the simulated instance heard of the move (at settle)
  int away_partition_ = -1;  // given away by the group, until back_at_
  int back_at_ = -1;
  std::shared_ptr<persistence::OwnedPartitions> owned_;
  int commits_after_move_ = 0;
  std::set<std::string> foreign_rows_;  // rows the other instance committed
  // Two owners: the other instance's accounts and partitions, its claim, and the transfers it
  // sent to local accounts (whose credits this instance's receiver applies).
  std::mt19937_64 transit_rng_;
  // Issue 23: stalls, time and retention; returning partitions (generators of their own: without
  // these features a seed's schedule is what it was before them).
  std::mt19937_64 time_rng_;
  std::mt19937_64 return_rng_;
  // Account rules (a generator of its own): the rules the accounts started with, the other
  // instance's commits, what broke the rules after a commit (the first such commit).
  std::mt19937_64 rules_rng_;
  // Postings (a generator of its own): the accounts of the second currency, and the client.
  std::mt19937_64 postings_rng_;
  // Hold expiry (a generator of its own): what is watched of holds and their closings.
  std::mt19937_64 expiry_rng_;
  std::optional<ExpiryCheck> expiry_;
  // What the Ledger asks of storage outside the account protocol (null: never asked here).
  std::shared_ptr<ModelLedgerRecords> records_;
  std::optional<ReadsClient> reads_;  // --reads
  std::vector<std::string> second_;
  std::optional<PostingClient> posting_client_;
  std::map<std::string, ModelRules> initial_rules_;
  std::set<uint64_t> foreign_commits_;
  std::vector<std::string> rules_failures_;
  int64_t deadline_ms_ = 0;
  int64_t ttl_ms_ = 0;  // 0: the service's 24 h (retention not exercised)
  int stall_percent_ = 0;
  size_t cache_ = 0;
  int returning_partition_ = -1;  // taken back, its notice not yet sent to the registry
  int notice_at_ = -1;
  bool other_holds_away_ = false;  // the other instance took the partition given away
  int64_t other_epoch_ = 0;
  std::vector<std::string> remote_;
  std::set<int> remote_partitions_;
  persistence::OwnershipClaim remote_claim_{kOtherInstance, {}};
  std::set<std::string> incoming_;
  std::set<std::string> incoming_postings_;  // transactions whose credit this instance applies
  // Across owners (postings with two owners): transactions with payers on both instances.
  std::optional<AcrossOwners> across_;
  std::unique_ptr<caf::actor_system_config> config_;
  caf::actor_system system_;
  caf::scheduler::test_coordinator& sched_;
  std::shared_ptr<ModelLedger> model_;
  std::unique_ptr<actors::Ledger> ledger_;
  std::vector<std::string> accounts_;
  std::string unknown_;
  // What each account could spend (balance + line - pending holds) after each step that changed
  // it, and the balance each started from.
  std::map<std::string, std::vector<std::pair<int, int64_t>>> history_;
  std::map<std::string, int64_t> initial_balance_;
  int64_t initial_total_ = 0;
  std::vector<std::shared_ptr<ClientOp>> ops_;
  std::vector<int> keyed_;
  int fail_percent_ = 0;
  int step_ = 0;
  int idle_ticks_ = 0;
  ScheduleResult result_;
};

}  // namespace

ScheduleResult run_schedule(uint64_t seed, const SimulationOptions& options) {
  Simulation simulation(seed, options);
  return simulation.run();
}

}  // namespace wallet::simulation
