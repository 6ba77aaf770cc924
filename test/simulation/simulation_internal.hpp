// The simulation's one schedule (simulation.hpp's run_schedule), private to test/simulation/: the
// class, its state, and which file does what of it (one file per capability, listed below).
#pragma once

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/ledger.hpp"
#include "domain/money.hpp"
#include "test/simulation/across_owners.hpp"
#include "test/simulation/client_op.hpp"
#include "test/simulation/expiry_check.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/model_ledger_records.hpp"
#include "test/simulation/posting_client.hpp"
#include "test/simulation/reads_client.hpp"
#include "test/simulation/simulation.hpp"

namespace wallet::simulation {

using actors::Reply;

inline std::string account_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

inline std::string money(int64_t minor) { return domain::format_minor_units(minor); }

class Simulation {
 public:
  Simulation(uint64_t seed, const SimulationOptions& options);
  ~Simulation();
  ScheduleResult run();

 private:
  // simulation.cpp: the setup and run() (above), the seed's draws, the clock, the trace.
  static std::unique_ptr<caf::actor_system_config> make_config();
  uint64_t pick(uint64_t n);
  bool chance(int percent);
  int64_t now_ms();
  void draw_time_and_retention(actors::LedgerOptions& ledger_options);
  void note(std::string line);
  void fail(std::string what);
  void open_second_currency(ModelState& state);
  void start_reads(uint64_t seed);

  // simulation_schedule.cpp: the step loop (deliveries, store operations and their faults,
  // retirements, time), quiet spells, the settling, and holds left to expire.
  bool ready(const ModelLedger::Pending& op);
  size_t ready_store_operations();
  void quiet_spell();
  void note_submission(caf::scheduled_actor& actor);
  void faulty_step();
  int settle();
  std::optional<std::vector<actors::AccountSnapshot>> inspect_accounts();
  bool accounts_busy();
  void deliver();
  void complete_store_operation(bool faults);
  void retire();
  int let_holds_expire();

  // simulation_clients.cpp: the operations clients send, and how they are keyed and described.
  const std::string& any_account();
  void send_operation(const std::string* payer = nullptr);
  void aim_at_rules(ClientOp& op);
  void aim_at_hold(ClientOp& op, const ClientOp* original);
  void send_transaction(const std::shared_ptr<ClientOp>& op, actors::ReplyFn reply, int rechecks,
                        actors::Deadline deadline = actors::kNoDeadline);
  static std::string tag_endpoint(const ClientOp& op);
  static std::string hash(const ClientOp& op);
  static std::string describe(const ClientOp& op);
  int unanswered() const;
  int64_t hold_timeout_s();

  // simulation_partitions.cpp: partitions that move: an owner change, a partition given away and
  // taken back, the registry's notice.
  bool moved_account(const std::string& user) const;
  void change_owner();
  void give_away();
  void take_back();
  void retry_into(int partition);
  void send_move_notice();
  void retire_as_notice_comes(int partition);
  void set_claimed(int partition, std::optional<int64_t> epoch);
  void learn_of_the_move();

  // simulation_other_instance.cpp: the other instance at work: its accounts, its commits in a
  // partition given away to it, transfers and transactions in transit both ways.
  void choose_remote_accounts();
  void remote_step();
  void commit_while_away();
  void change_rules_while_away(const std::string& user);
  void note_foreign_commit();
  OtherInstance other_instance();
  bool away_served() const;
  void send_incoming();
  void send_as_posting(persistence::LedgerMutation& debit);
  int credit_remote_arrivals();

  // simulation_answer_checks.cpp: what clients were told (answers, keys, refusals).
  void record_available();
  static std::optional<std::string> body_field(const Reply& reply, const char* name);
  static std::string error_code(const Reply& reply);
  void check_answers();
  void check_keys();
  void check_refusals();
  bool excused_refusal(const ClientOp& op) const;
  static bool refused_for_rules(const Reply& reply);
  bool of_transaction(const ClientOp& op) const;
  void check_hold_refusal(const ClientOp& op);

  // simulation_state_checks.cpp: what the store and the actors hold at rest, and the checkers of
  // each mode (account rules, postings, across owners, the fence, expiry, reads).
  void check_across_owners();
  void check_rules_held_now();
  void check_fence();
  void check_model();
  void check_rules();
  void check_hold_winners();
  void check_postings();
  void check_expiry();
  void check_reads_answered();
  void check_actors();

  // As http/transactions_api.cpp: a reversal the HTTP layer refuses on what it read is answered
  // there (through the key's gate when keyed: a retry of a reversal that committed replays its
  // 201); anything else goes to the Ledger. A reversal that waited behind racing ones is answered
  // kRecheck: the HTTP layer reads the transaction again and decides anew, a few times, then
  // answers 503 (nothing changed).
  static constexpr int kReversalRechecks = 5;

  static constexpr const char* kThisInstance = "sim-a";
  static constexpr const char* kOtherInstance = "sim-b";

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

}  // namespace wallet::simulation
