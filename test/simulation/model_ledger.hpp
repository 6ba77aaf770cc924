// ModelLedger: an in-memory LedgerBackend with the semantics of ledger_commit_batch (schema/
// transaction_service/functions/, on the tables of 001, 003, 006, 007, 010 and 011): the ownership
// fence, then per account a conditional update on the balance the batch starts from and on the
// account's status, the row constraints, the idempotency primary key, the transactions of many
// postings with the reversal guard (011), the changes of accounts' rules after the rows (as
// ledger_apply_batch makes them), all or nothing. Every call is held as a
// pending operation until the simulation completes it, with or without a fault, in the order it
// chooses; that is how loads and commits stall, fail, or commit and lose their reply. Outcomes
// carry their creation time on the simulation's virtual clock and are found only within their
// retention (ledger_store.cpp's find_outcomes, 005_idempotency_retention.sql). The differential
// test (test/integration/persistence/model_ledger_differential_test.cpp) holds it to the real SQL.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "persistence/ledger_backend.hpp"

namespace wallet::simulation {

// A place in commit order, over every instance's commits: the batch (1, 2, ...) and the index of
// the mutation in it. Within one batch the writer keeps each account's actor order, so a change
// of rules at an earlier index comes before a row or hold at a later one.
struct CommitPoint {
  uint64_t commit = 0;
  int position = 0;
  bool operator<(const CommitPoint& other) const {
    return commit != other.commit ? commit < other.commit : position < other.position;
  }
};

// The committed state, as Postgres would hold it.
struct ModelRow {
  persistence::LedgerEntry entry;
  uint64_t seq = 0;
  CommitPoint at{};
  // Its created_at: the virtual time of its commit (ModelState::now_ms), never before an earlier
  // row's (the rows of one account are in seq order in time, as the queries rely on).
  int64_t created_ms = 0;
};

// An account's rules (accounts.overdraft_limit and accounts.status, 010_accounts.sql).
struct ModelRules {
  int64_t overdraft_limit = 0;
  persistence::AccountStatus status = persistence::AccountStatus::open;
};

// A committed change of an account's rules: what was asked (AccountChange's fields) and the rules
// before and after, where it lies in commit order.
struct RulesChange {
  CommitPoint at;
  std::string account_id;
  std::optional<std::string> status;
  std::optional<int64_t> overdraft_limit;
  ModelRules before;
  ModelRules after;
};

// 011: a row of ledger_transactions (a transaction of POST /transactions or a reversal), where it
// committed.
struct ModelTransaction {
  persistence::TransactionRecord record;
  CommitPoint at{};
};

// 011: a row of transaction_reversals: how much of a transaction may be reversed in all and how
// much its reversals have reversed (numerics, held here in units of 10^-exponent).
struct ModelReversal {
  int64_t reversible = 0;
  int64_t reversed = 0;
  int exponent = 0;
};

// A row of partition_owner (006_partition_owner.sql).
struct ModelPartition {
  std::string owner;  // empty: never taken
  int64_t epoch = 0;
};

// An idempotency outcome as it was stored, kept after it is replaced (for the retention checks).
struct StoredOutcome {
  persistence::IdempotencyOutcome outcome;
  int64_t created_ms = 0;  // virtual time of its commit (idempotency_keys.created_at)
};

struct ModelState {
  std::map<std::string, int64_t> balances;  // user_id -> balance (users table)
  std::vector<ModelRow> rows;               // transactions, in commit order
  std::map<std::pair<std::string, std::string>, persistence::IdempotencyOutcome> outcomes;
  // created_at of each row of `outcomes`, and every outcome ever stored, in commit order.
  std::map<persistence::KeyRef, int64_t> outcome_created_ms;
  std::vector<StoredOutcome> outcome_log;
  int64_t now_ms = 0;  // virtual time of the next commit (Postgres' now()): stamps new outcomes
  std::map<std::string, persistence::HoldRecord> holds;      // hold_id -> hold
  std::map<int, ModelPartition> partition_owner;             // empty: no partitions created
  std::map<std::string, persistence::InTransit> in_transit;  // transfer_id -> row (007)
  // 010: the rules of accounts that have any (others are open with no overdraft line), and every
  // committed change of them in commit order; batches committed so far; where each hold was
  // created and closed (the checks' order of rules against holds).
  std::map<std::string, ModelRules> rules;
  std::vector<RulesChange> rules_log;
  uint64_t commits = 0;
  std::map<std::string, CommitPoint> hold_created;
  std::map<std::string, CommitPoint> hold_closed;
  std::set<std::string> change_ids;  // account_changes: how a change in doubt is found
  // 011: ledger_transactions by id, transaction_reversals by the id of the transaction reversed.
  std::map<std::string, ModelTransaction> transactions;
  std::map<std::string, ModelReversal> reversals;
  // 012: transaction_decisions (across owners).
  std::map<std::string, persistence::TransactionDecision> decisions;
  // The currency of accounts not in the default currency (accounts.currency; loads report it).
  std::map<std::string, std::string> currencies;

  ModelRules rules_of(const std::string& account_id) const {
    auto it = rules.find(account_id);
    return it == rules.end() ? ModelRules{} : it->second;
  }
  // Applies a batch as ledger_apply_batch does: returns false (and changes nothing) where
  // Postgres would raise. `why` says which rule refused it, `refusal` how the store reports it
  // (rejected, or over_reversed for the reversal guard's WL009).
  bool apply(const std::vector<const persistence::LedgerMutation*>& batch, std::string* why,
             persistence::ApplyStatus* refusal = nullptr);
  // apply's last part: the batch's changes of accounts' rules, checked against the balances and
  // holds after its rows and its new holds (as the SQL, which writes holds first), into
  // `rules_after` and `changes` (their commit still 0).
  bool apply_account_changes(const std::vector<const persistence::LedgerMutation*>& batch,
                             const std::function<int64_t(const std::string&)>& balance_after,
                             const std::function<int64_t(const std::string&)>& held_after,
                             const std::map<std::string, persistence::HoldRecord>& holds_after,
                             const std::map<std::string, persistence::InTransit>& in_transit_after,
                             std::map<std::string, ModelRules>& rules_after,
                             std::vector<RulesChange>& changes, std::string* why) const;
  // apply's parts for 011: the batch's rows of transactions (transactions_postings_named, the
  // unique transactions_posting_leg) and its ledger_transactions rows; then its reversals
  // upserted into `reversals_after`, whose CHECK reversed <= reversible refuses the whole batch
  // (WL009: `refusal` over_reversed).
  bool insert_transactions(const std::vector<const persistence::LedgerMutation*>& batch,
                           std::string* why) const;
  bool upsert_reversals(const std::vector<const persistence::LedgerMutation*>& batch,
                        std::map<std::string, ModelReversal>& reversals_after, std::string* why,
                        persistence::ApplyStatus* refusal) const;
  std::string currency_of(const std::string& account_id) const;
  // Commits a batch as ledger_commit_batch does: the fence (`claim`, none when null or with no
  // instance), then apply. committed, rejected or over_reversed (apply refused) or fenced
  // (WL005).
  persistence::ApplyStatus commit(const std::vector<const persistence::LedgerMutation*>& batch,
                                  const persistence::OwnershipClaim* claim, std::string* why);
  // partition_init and partition_take.
  void create_partitions(int count);
  int64_t take_partition(int partition, const std::string& instance);
  // Whether the probe of a commit in doubt was committed, as LedgerStore::found_committed looks:
  // by its first row, else its outcome, else its first new hold or hold change. A mutation that
  // only changes an account's rules is never found there, and so not here either.
  bool contains(const persistence::LedgerMutation& probe) const;
};

enum class Fault {
  none,                // do it
  fail,                // load/lookup: unavailable; apply: unavailable, nothing written
  in_doubt_committed,  // apply: commit, then the reply is lost
  in_doubt_lost,       // apply: the connection breaks before the commit; reply lost
};

class ModelLedger : public persistence::LedgerBackend {
 public:
  struct Pending {
    std::string what;  // for the trace: "load u1", "apply 3 mutations", ...
    bool is_apply = false;
    std::function<void(Fault)> complete;
    // A lookup before the writer (load, hold, keys): the simulation may stall it (park it).
    bool is_lookup = false;
    int64_t parked_until_ms = 0;  // not completed before this virtual time
    std::string account{};        // a load's account (its late reply's too)
    bool late_reply = false;      // the reply of a load that has already read
  };

  // `write_lanes`: how many writes the writer may have under way at once (its lanes).
  ModelLedger(ModelState state, size_t write_lanes)
      : state_(std::move(state)), lanes_busy_(write_lanes, false) {}

  void load_account(
      const std::string& user_id,
      std::function<void(domain::Result<std::optional<persistence::AccountRecord>>)> done) override;
  void find_hold(
      const std::string& hold_id,
      std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> done) override;
  void find_outcomes(
      std::vector<persistence::KeyRef> keys,
      std::function<void(domain::Result<std::vector<persistence::IdempotencyOutcome>>)> done)
      override;
  size_t write_lanes() const override { return lanes_busy_.size(); }
  void apply(size_t lane, std::vector<const persistence::LedgerMutation*> batch,
             std::function<void(persistence::ApplyStatus)> done) override;
  void was_committed(size_t lane, const persistence::LedgerMutation& probe,
                     std::function<void(domain::Result<bool>)> done) override;
  void purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) override;
  void in_transit_due(
      std::vector<int> partitions, int limit,
      std::function<void(domain::Result<persistence::InTransitSummary>)> done) override;
  void decide(const std::string& transaction_id, bool abort_if_none,
              std::function<void(domain::Result<persistence::TransactionDecision>)> done) override;
  void transaction_holds_due(
      std::vector<int> partitions, int partition_count, int64_t placed_before_ms, int limit,
      std::function<void(domain::Result<std::vector<persistence::HoldRecord>>)> done) override;

  // The virtual clock (ms) and the retention of outcomes (0: forever). find_outcomes answers only
  // outcomes younger than `ttl` (with their age) and deletes an expired one it meets, as Postgres'
  // does; `forget_after` (negative control of the retention checks) makes it forget them sooner.
  void set_clock(std::function<int64_t()> now_ms) { clock_ms_ = std::move(now_ms); }
  void set_retention(int64_t ttl_ms, int64_t forget_after_ms) {
    ttl_ms_ = ttl_ms;
    forget_after_ms_ = forget_after_ms;
  }
  int64_t now_ms() const { return clock_ms_ ? clock_ms_() : 0; }
  // Reads of a load that answer later than they read (a slow reply): the read is taken when the
  // operation completes and its reply waits as another pending operation. A percentage.
  void set_late_replies(int percent, std::function<bool(int)> chance) {
    late_reply_percent_ = percent;
    chance_ = std::move(chance);
  }

  std::deque<Pending>& pending() { return pending_; }
  const ModelState& state() const { return state_; }
  // Another instance's moves (an owner change, its own commits) act on the state directly.
  ModelState& shared_state() { return state_; }
  // The fence every apply of this instance carries (none while unset).
  void set_claim(persistence::OwnershipClaim claim) { claim_ = std::move(claim); }
  const persistence::OwnershipClaim& claim() const { return claim_; }
  // Called after every commit of this instance with the claim it carried (the simulation records
  // what each account could spend, and checks the fence).
  std::function<void(const persistence::OwnershipClaim&)> on_commit;
  // What the writer did that Postgres would not have kept in order: two writes under way at once
  // on one lane, or on two lanes touching one account (Postgres would serialize them by row lock,
  // in either order, and a chain built on the first would be refused or run backwards).
  const std::vector<std::string>& violations() const { return violations_; }
  // Batches of this instance the store refused (rejected), by the rule that refused them: what a
  // schedule exercised (the reversal guard among them).
  const std::map<std::string, int>& refusals() const { return refusals_; }

 private:
  // Marks a lane busy for one write; a violation when it already was.
  void occupy(size_t lane, const std::string& what);
  // Drops the outcome of `key` when it is past its retention (Postgres' find_outcomes); true when
  // it is still live.
  bool live_or_forget(const persistence::KeyRef& key);
  void release(size_t lane) { lanes_busy_.at(lane) = false; }
  ModelState state_;
  persistence::OwnershipClaim claim_;
  std::deque<Pending> pending_;
  std::vector<bool> lanes_busy_;
  std::map<std::string, size_t> writing_;  // account -> the lane writing it now
  std::vector<std::string> violations_;
  std::map<std::string, int> refusals_;
  std::function<int64_t()> clock_ms_;
  int64_t ttl_ms_ = 0;
  int64_t forget_after_ms_ = 0;
  int late_reply_percent_ = 0;
  std::function<bool(int)> chance_;
};

}  // namespace wallet::simulation
