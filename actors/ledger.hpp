// Ledger: the front door of transaction-service's actor system for the edges (HTTP handlers, the
// NATS responder, the Kafka consumer). It spawns the LedgerWriter, the AccountRegistry and the
// IdempotencyGate, and turns calls into messages; every callback is invoked exactly once, on an
// actor or pool thread (never the caller's), after the outcome is durable.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/account_facts.hpp"
#include "actors/account_registry.hpp"
#include "actors/ledger_messages.hpp"
#include "actors/ledger_options.hpp"
#include "actors/ledger_writer.hpp"
#include "actors/stage_deadline.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/ledger_records.hpp"
#include "persistence/owned_partitions.hpp"
#include "persistence/transaction_query_types.hpp"
#include "persistence/transaction_views.hpp"
#include "runtime/in_flight_counter.hpp"

namespace wallet::actors {

// The facade's read results: plain records (persistence/ledger_types.hpp, ledger_records.hpp) with
// no connection or store behind them; http/ renders them.
using HoldRecord = persistence::HoldRecord;
using HistoryPage = persistence::HistoryPage;
using PartitionOwner = persistence::PartitionOwner;
using OwnedPartitions = persistence::OwnedPartitions;
using InTransit = persistence::InTransit;
using InTransitSummary = persistence::InTransitSummary;
using AccountView = persistence::AccountView;
using TransactionView = persistence::TransactionView;
using PostingView = persistence::PostingView;
using NewAccount = persistence::NewAccount;
using AccountOpened = persistence::AccountOpened;
using StoredOutcome = persistence::IdempotencyOutcome;
using AccountStatus = persistence::AccountStatus;
using persistence::account_status_name;
using persistence::parse_account_status;
// Queries and the past (persistence/transaction_query_types.hpp), and the admin totals.
using TimeRange = persistence::TimeRange;
using TransactionCursor = persistence::TransactionCursor;
using TransactionQuery = persistence::TransactionQuery;
using TransactionPage = persistence::TransactionPage;
using AccountRowsQuery = persistence::AccountRowsQuery;
using AccountRowsPage = persistence::AccountRowsPage;
using BalanceAt = persistence::BalanceAt;
using CurrencyTotals = persistence::CurrencyTotals;
using persistence::by_record;
using persistence::kEarliestInstantUs;
using persistence::kLatestInstantUs;

// How opening an account ended (the Kafka consumer commits its offset or dead-letters on it).
using AccountOpening = persistence::AccountOpening;

class Ledger {
 public:
  // `records` serves what is asked of storage outside the account protocol (accounts opened and
  // read, history, queries, partitions, the expiry sweep); `backend` everything the protocol asks
  // of storage (loads, lookups, commits). `records` may be null only where those are never asked
  // for (the protocol simulation); then no expiry sweep and no server check runs either.
  Ledger(caf::actor_system& system, std::shared_ptr<persistence::LedgerRecords> records,
         std::shared_ptr<persistence::LedgerBackend> backend, LedgerOptions options);
  ~Ledger();

  void deposit(DepositCommand command);
  void transfer(TransferCommand command);
  void balance(BalanceQuery query);
  void inspect(InspectQuery query);
  void inspect_writer(std::function<void(WriterStats, size_t)> reply);
  // Opens the account of a new user idempotently (the insert runs on LedgerRecords, off the actor
  // threads), then tells the registry, so that an actor that found it missing looks again.
  // `done` is called once, on a pool thread.
  void open_account(std::string user_id, std::string created_at,
                    std::function<void(AccountOpening)> done);
  // An account was opened elsewhere: an actor that found it missing must look again.
  // Withdrawals and holds. Each answers through its callback exactly once, as above.
  void withdraw(WithdrawCommand command);
  void create_hold(HoldCommand command);
  // Capture: amount nullopt = all of the hold. Void: closes it without moving money.
  void capture_hold(std::string hold_id, std::optional<int64_t> amount,
                    std::optional<IdempotencyTag> tag, ReplyFn reply);
  void void_hold(std::string hold_id, std::optional<IdempotencyTag> tag, ReplyFn reply);
  void hold(std::string hold_id,
            std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> reply);
  void balance_figures(AvailableQuery query);
  // One page of an account's history, newest first, before the row `before` (0: from the newest).
  void history(std::string user_id, int limit, int64_t before,
               std::function<void(domain::Result<std::optional<persistence::HistoryPage>>)> reply);

  // Accounts (actors/ledger_accounts.cpp). Opening one: `render` gives the body of its idempotency
  // outcome, stored in the same transaction (http/ renders). Reads are of committed state.
  void create_account(persistence::NewAccount account,
                      std::function<std::string(const AccountView&)> render,
                      std::function<void(domain::Result<persistence::AccountOpened>)> reply);
  void account(std::string account_id,
               std::function<void(domain::Result<std::optional<AccountView>>)> reply);
  void accounts(std::vector<std::string> account_ids,
                std::function<void(domain::Result<std::vector<AccountView>>)> reply);
  // The accounts a transaction names, for its checks (existence, user, currency, status): as
  // `accounts`, but from AccountFacts when read less than a second ago. Not for money figures.
  void posting_accounts(std::vector<std::string> account_ids,
                        std::function<void(domain::Result<std::vector<AccountView>>)> reply);
  void user_accounts(
      std::string user_id,
      std::function<void(domain::Result<std::optional<std::vector<AccountView>>>)> reply);
  // A keyed request refused before any actor decides it (it names a closed account, which is
  // final): `refusal` is the answer unless its key holds an outcome, which is replayed.
  // `deadline`: the request's (kNoDeadline: from now).
  void refuse(IdempotencyTag tag, domain::Error refusal, ReplyFn reply,
              Deadline deadline = kNoDeadline);
  // The deadline of a request arriving now (LedgerOptions::request_deadline from now): a caller
  // that hands one request on in several steps gives each step the same one.
  Deadline deadline_from_now() const;
  // A change of an account's rules, decided by its actor after its work in flight settled;
  // answered 200 with an empty body once durable (the caller reads the account back).
  void update_account(AccountUpdate update);

  // Transactions of many postings (actors/ledger_transactions.cpp, posting_coordinator.cpp):
  // applied all or nothing through the accounts' actors; answered once durable.
  void transact(TransactionCommand command);
  // Across owners (actors/transaction_holds.cpp), the side of a payer's owner: settles a hold of
  // a transaction as its decision says (captured as the posting, or voided); with `force`, a
  // transaction with no decision yet is decided `abort` first. done(true): the hold is settled
  // (now, or before). A hold's placement is create_hold with HoldCommand::transaction_id set.
  void settle_transaction_hold(std::string hold_id, bool force, std::function<void(bool)> done);
  // Settles every hold of a transaction of this instance's partitions placed more than
  // resolve_after ago (forced); answers how many it looked at.
  void resolve_transaction_holds(std::function<void(size_t)> done);
  // Any transaction by id (one of POST /transactions, or an operation of the single-operation
  // endpoints as a transaction of one posting); committed state.
  void transaction(
      std::string transaction_id,
      std::function<void(domain::Result<std::optional<persistence::TransactionView>>)> reply);
  // GET /admin/totals: per currency, accounts, in transit and @world (persistence::ledger_totals).
  void totals(bool verify,
              std::function<void(domain::Result<std::vector<persistence::CurrencyTotals>>)> reply);

  // Queries of the ledger (actors/ledger_queries.cpp; SPEC.md section 8, "Metadata, queries,
  // balances in the past"): committed state read on the pool, through indexes only
  // (persistence/transaction_queries.hpp). A missing account is nullopt.
  void find_transactions(persistence::TransactionQuery query,
                         std::function<void(domain::Result<persistence::TransactionPage>)> reply);
  void account_rows(
      persistence::AccountRowsQuery query,
      std::function<void(domain::Result<std::optional<persistence::AccountRowsPage>>)> reply);
  // At or before `at_us` (microseconds since the epoch); without it, the committed balance now.
  void balance_at(std::string account_id, std::optional<int64_t> at_us,
                  std::function<void(domain::Result<std::optional<persistence::BalanceAt>>)> reply);

  // Beyond one machine: every partition with its owner and epoch, as Postgres holds them.
  void partitions(
      std::function<void(domain::Result<std::vector<persistence::PartitionOwner>>)> reply);

  // Transfers between owners not credited yet: how many, their total, the oldest `limit`.
  void in_transit(int limit, std::function<void(domain::Result<InTransitSummary>)> reply);
  // Applies the credit of a transfer in transit to an account this instance serves, exactly once
  // (its commit deletes the in-transit row, or fails and changes nothing). `done(true)`: committed.
  void arrive(InTransit leg, std::function<void(bool)> done);

  // Ownership changes, from the thread that follows the Kafka group (they block it; never call
  // them from an actor or a reactor thread). take: bumps each partition's epoch in Postgres and
  // serves it from then on; false if Postgres could not be reached (nothing held then).
  // give_up: stops accepting work for the partitions, waits up to `drain` for the work accepted
  // for them to be answered, then drops them from the fence and retires their idle actors.
  bool take_partitions(const std::vector<int>& partitions);
  // Serves a partition just taken at `epoch`: the accounts of it still loaded here hear first that
  // it moved (they reload before they decide anything), then it is served. The notice reaches the
  // registry before any request admitted for the partition, since those are sent after it.
  void serve_partition(int partition, int64_t epoch);
  void give_up_partitions(const std::vector<int>& partitions, std::chrono::milliseconds drain);
  const std::shared_ptr<persistence::OwnedPartitions>& owned() const { return options_.owned; }

  // The Kafka consumer opened this account: an actor that found it missing must look again.
  void account_opened(const std::string& user_id);

  size_t in_flight() const { return in_flight_->count(); }
  // Blocks until every operation accepted is answered (in_flight() reaches 0) or `until` passes;
  // true when none is left. Shutdown calls it after refuse_new(), so that nothing new is counted.
  bool drain(std::chrono::steady_clock::time_point until) { return in_flight_->drain(until); }
  const LedgerGauges& gauges() const { return *gauges_; }
  // From now on new operations are refused with 503 (shutdown: answer what was accepted first).
  void refuse_new() { refusing_.store(true); }
  // The readiness probe's verdict on the ledger's database (about once a second). While it is
  // unreachable, new money operations are refused at once (503 unavailable, nothing changed):
  // they would otherwise run and wait at the writer, behind any commit left in doubt, until it
  // returns. (Before issue 28 the key's lookup failed them fast; unkeyed ones waited.)
  void set_database_reachable(bool reachable) { database_down_.store(!reachable); }
  void stop();

  // Asks the account's actor to retire now if it is idle (as the idle scan does).
  void retire(const std::string& user_id);

  // The registry itself, for protocol tests that play a coordinator.
  caf::actor registry_for_tests() const { return registry_; }

 private:
  // Wraps a reply with the in-flight accounting; false (and the client answered 429) when full.
  bool admit(ReplyFn& reply, const std::string& account);
  // Starts a transfer (or capture) whose payer this instance serves; across owners when the
  // payee's partition is held elsewhere.
  void start_transfer(TransferCommand command);
  // Beyond one machine: true when another instance serves the account's partition; then its
  // committed figures are read from Postgres (what its owner's actor answers from), a missing
  // account being user_not_found.
  bool owned_elsewhere(const std::string& user_id) const;
  void read_elsewhere_owned(const std::string& user_id,
                            std::function<void(domain::Result<persistence::AccountRecord>)> reply);
  // Reads (a balance, its figures): from the account actor's memory when this instance serves
  // the account and its read lease holds (persistence::OwnedPartitions::Lease), else the committed
  // row. A memory answer is kept only if the lease held through it; else the row is read instead.
  bool memory_answers(const std::string& user_id) const;
  template <typename Answer>
  std::function<void(Answer)> kept_while_leased(std::function<void(Answer)> reply,
                                                std::function<void()> reread) const;
  void balance_from_store(const std::string& user_id,
                          std::function<void(domain::Result<int64_t>)> reply);
  void figures_from_store(const std::string& user_id, bool account_form,
                          std::function<void(domain::Result<BalanceFigures>)> reply);
  // A transaction's payees served elsewhere, from `next` on, read as their owners' actors would
  // check a credit (the account exists, holds the posting's currency, is not closed), then the
  // transaction goes to the coordinator (actors/ledger_transactions.cpp).
  void check_payees_elsewhere(TransactionCommand command, size_t next);
  // Across owners: places a hold on the owner of each payer served elsewhere, then hands the
  // transaction to the coordinator, whose commit decides it; any refusal or failure decides
  // `abort` (actors/transaction_holds.cpp).
  void place_holds(TransactionCommand command);
  void decided_with_holds(TransactionCommand command);
  void abort_with_holds(const TransactionCommand& command);
  void start_hold_resolver();
  // A hold of a transaction, settled as `decision` says (none: left pending).
  void settle_as_decided(const persistence::HoldRecord& hold,
                         persistence::TransactionDecision decision, std::function<void(bool)> done);
  void run_idempotent(const IdempotencyTag& tag, Deadline deadline, ReplyFn reply,
                      std::function<void(ReplyFn)> run);
  // Starts a client's command once: `start(command)` at once without a key, through the
  // IdempotencyGate with one (its duplicates wait for or replay the outcome). An unset deadline is
  // the request deadline from now.
  template <class Command, class Start>
  void run_keyed(Command command, Start start) {
    if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
    if (!command.tag) return start(std::move(command));
    auto tag = *command.tag;
    const Deadline deadline = command.deadline;
    ReplyFn reply = std::move(command.reply);
    run_idempotent(tag, deadline, std::move(reply),
                   [start = std::move(start), command = std::move(command)](ReplyFn done) mutable {
                     command.reply = std::move(done);
                     start(std::move(command));
                   });
  }
  // A refusal decided for good (a closed account, a transaction reversed): without a key it is
  // answered; with one it is stored as the key's outcome through the writer, then answered.
  void answer_decided(const std::optional<IdempotencyTag>& tag, Reply refusal, ReplyFn reply);
  // See actors/stage_deadline.hpp: `reply` is answered `503 timeout` at `deadline` unless the
  // returned claim was passed first.
  std::shared_ptr<StageClaim> start_stage(Deadline deadline, const ReplyFn& reply);

  caf::actor_system& system_;
  LedgerOptions options_;
  caf::actor writer_;
  caf::actor registry_;
  caf::actor coordinator_;  // every transfer's (transfer_coordinator.hpp)
  caf::actor gate_;
  caf::actor purger_;
  caf::actor sweeper_;  // hold expiry for accounts not loaded
  std::shared_ptr<persistence::LedgerRecords> records_;
  std::shared_ptr<persistence::LedgerBackend> backend_;
  // Operations accepted and not answered (admit); shared with the replies that release them.
  std::shared_ptr<runtime::InFlightCounter> in_flight_;
  // Operations accepted and not answered, per partition of the account they were admitted for
  // (give_up_partitions waits for its partitions' counts to reach zero).
  std::shared_ptr<std::vector<std::atomic<int64_t>>> partition_load_;
  caf::actor receiver_;        // beyond one machine: applies credits in transit to held partitions
  caf::actor timekeeper_;      // answers stages whose deadline passed (start_stage)
  caf::actor server_watcher_;  // asks the backend, every second, which server it writes to
  caf::actor hold_resolver_;   // across owners: resolve_transaction_holds every resolve_every
  std::shared_ptr<LedgerGauges> gauges_ = std::make_shared<LedgerGauges>();
  std::shared_ptr<AccountFacts> facts_ = std::make_shared<AccountFacts>();
  std::atomic<bool> refusing_{false};
  std::atomic<bool> database_down_{false};
};

}  // namespace wallet::actors
