// The simulation of one schedule: its setup from the seed, run() (the faulty phase, the settling,
// the checks), and the draws, clock and trace every part of it uses (simulation_internal.hpp).
#include "test/simulation/simulation.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <memory>
#include <random>

#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "test/simulation/client_op.hpp"
#include "test/simulation/deadline_check.hpp"
#include "test/simulation/expiry_check.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/model_ledger_records.hpp"
#include "test/simulation/posting_client.hpp"
#include "test/simulation/reads_client.hpp"
#include "test/simulation/retention_check.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

using namespace std::chrono_literals;

Simulation::Simulation(uint64_t seed, const SimulationOptions& options)
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

Simulation::~Simulation() {
  ledger_->stop();
  sched_.run(100'000);
}

ScheduleResult Simulation::run() {
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
  for (const auto& [why, n] : model_->refusals()) {
    if (why.find("WL011") != std::string::npos) result_.keys_taken += n;
  }
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

std::unique_ptr<caf::actor_system_config> Simulation::make_config() {
  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->set("scheduler.policy", caf::atom("testing"));
  cfg->set("logger.file-verbosity", caf::atom("quiet"));
  cfg->set("logger.console-verbosity", caf::atom("quiet"));
  return cfg;
}

uint64_t Simulation::pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

bool Simulation::chance(int percent) { return static_cast<int>(pick(100)) < percent; }

int64_t Simulation::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             sched_.clock().current_time.time_since_epoch())
      .count();
}

// Issue 23's time: stalls of lookups in some schedules, a short idempotency TTL (1-3 s) and, in
// half the schedules, a memory of a few outcomes only, so that keys come back from the store
// with their age; loads that answer later than they read (returning partitions).
void Simulation::draw_time_and_retention(actors::LedgerOptions& ledger_options) {
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

void Simulation::note(std::string line) {
  result_.trace.push_back("[" + std::to_string(step_) + "] " + std::move(line));
}

void Simulation::fail(std::string what) { result_.failures.push_back(std::move(what)); }

// Postings: two accounts of the second currency (an exchange's liquidity account and a client),
// with 0 .. 150.00 each.
void Simulation::open_second_currency(ModelState& state) {
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

// Reads (reads_client.hpp): every account of the schedule, this instance's and the other's.
void Simulation::start_reads(uint64_t seed) {
  std::vector<std::string> read = accounts_;
  read.insert(read.end(), second_.begin(), second_.end());
  read.insert(read.end(), remote_.begin(), remote_.end());
  reads_.emplace(
      seed, *ledger_, model_, std::move(read), [this] { return step_; },
      [this] { return now_ms(); }, [this](std::string line) { note(std::move(line)); });
}

ScheduleResult run_schedule(uint64_t seed, const SimulationOptions& options) {
  Simulation simulation(seed, options);
  return simulation.run();
}

}  // namespace wallet::simulation
