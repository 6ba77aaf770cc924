// The deterministic protocol simulation (DESIGN.md "Proving the protocol"): the real ledger actors
// (registry, account actors, transfer coordinators, idempotency gate, writer) run under CAF 0.17's
// test_coordinator over a ModelLedger. One seed decides everything: which pending message is
// delivered next, which operations clients send (deposits and transfers both ways, duplicated and
// concurrent keys, reused keys with another body), which faults happen (a commit that fails,
// stalls, or commits and loses its reply; a load that fails or stalls; lookups that fail),
// retirements at any moment, time passing (deadlines, back-off) and back-pressure (small stashes),
// and in some schedules an owner change: another instance takes a partition (006_partition_owner);
// and two owners: transfers across them settle through transfers in transit (007_in_transit).
// Issue 23: lookups that stall for seconds of virtual time, quiet spells in which time passes, a
// short idempotency TTL, and partitions that come back after another instance moved their money.
// Accounts' rules: overdraft lines, freezes and closings decided in each account's order.
// Transactions of many postings: all or nothing over N accounts, with @world legs, two currencies
// and reversals racing each other against Postgres' guard. Issue 24: holds of 1-3 s whose captures
// and voids race their expiry and the ledger's sweep (--expiry).
// After the faulty phase the schedule runs on without faults until it is quiet, then safety and
// liveness are checked (deadlines and retention among them); a failure comes with the trace of the
// whole schedule.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wallet::simulation {

struct SimulationOptions {
  int accounts = 4;
  int max_operations = 40;
  int faulty_steps = 600;     // steps with faults
  int settle_steps = 20'000;  // bound for the fault-free phase: liveness
  bool trace = false;         // keep the trace even when the schedule passes
  // Also send release 2's withdrawals and holds.
  bool release2 = false;
  // Also change accounts' rules (PATCH /accounts/{id}): overdraft lines (some below the account's
  // debt), freezes, unfreezes and closings, among the money operations and under the same faults;
  // some accounts start with a line, and the other instance freezes and unfreezes accounts of a
  // partition it holds meanwhile.
  bool account_rules = false;
  // Also send transactions of many postings (POST /transactions) and reversals of committed ones
  // (posting_client.hpp), keyed and duplicated, under the same faults; two accounts of a second
  // currency join the schedule (an exchange's other side).
  bool postings = false;
  // Beyond one machine: in this share of schedules another instance takes the partition of one
  // account at a random faulty step (and may commit a deposit there), unknown to the simulated
  // instance, whose commits must all be refused from then on by the fence.
  int owner_change_percent = 25;
  // Negative control: the simulated instance commits without a fence (its claim is not sent), so
  // an owner change must be caught by the checks.
  bool unfenced = false;
  // Two owners: two remote accounts live in partitions of another instance; clients send
  // transfers to them (debit here, credit there, in transit between), and the other instance
  // sends transfers from them, whose credits this instance's receiver must apply exactly once.
  bool two_owners = true;
  // Issue 23. Stalls: lookups before the writer (keys, holds, loads) stall for seconds of virtual
  // time while time passes, and every request that moves or reserves money must be answered by
  // its deadline (plus a slack) unless it reached the writer in time.
  bool stalls = true;
  // A short idempotency TTL (1-3 s) crossed by the schedule, and a small memory of outcomes in
  // some schedules: no replay past the retention counted from the stored outcome's time, no key
  // executed anew within it.
  bool retention = true;
  // Negative control of the retention checks: the store forgets outcomes at half their TTL.
  bool early_forgetting = false;
  // Partitions given away come back with another instance's commits made meanwhile: the notice
  // arrives after requests were admitted, while actors load (loads answered later than they
  // read) or are being retired.
  bool returns = true;
  // Negative control of the returning partitions: the order Ledger::take_partitions had before
  // issue 23 (the partition served first, the registry told later), instead of serve_partition.
  bool notice_after_serving = false;
  // The other instance also places and settles holds of transactions in a partition given away
  // to it meanwhile: its settling of a hold this instance also settles is what found the
  // writer's ambiguous probe of a commit in doubt (a batch probed by a hold's closing, taken as
  // committed when another instance closed that hold the same way; the writer now probes with
  // the surest mutation of the batch). A ctest of its own (simulation_schedules_across_away).
  bool across_away = false;
  // Issue 24 item 3: client holds placed with timeouts of 1-3 s of virtual time, crossed by the
  // schedule, and the ledger's expiry sweep on (every 250 ms, over ModelLedgerRecords), so that
  // captures and voids race the account actors' expiry and the sweep under the faults above;
  // after the schedule settles, time passes until every hold's expiry passed. Checks:
  // expiry_check.hpp. Implies release 2's holds (set by wallet-simulate).
  bool expiry = false;
  // Negative control of the expiry checks: the ledger's hold clock runs this far off the
  // store's (the model's now()), as an application server's clock skewed from Postgres' would.
  int64_t hold_clock_skew_ms = 0;
  // Issue 24 item 3: clients also read through the Ledger at random moments among the money
  // operations, under the same faults (history pages with and without a cursor, an account's
  // rows, balances now and in the past, the queries, the totals, in transit, the partitions),
  // over ModelLedgerRecords (a generator of its own). Checks: reads_check.hpp.
  bool reads = false;
  // Negative control of the reads checks: a first page of history misses the account's newest
  // row (a replica one commit behind).
  bool lagging_history = false;
};

struct ScheduleResult {
  uint64_t seed = 0;
  bool ok = true;
  std::vector<std::string> failures;
  std::vector<std::string> trace;
  int steps = 0;
  int operations = 0;
  std::map<std::string, int> answers;  // "<endpoint> <status>" -> how many (what was exercised)
  bool owner_changed = false;
  uint64_t fenced_batches = 0;  // batches of the simulated instance refused by the fence
  // Commits (batches, or mutations alone) refused because a key already held a stored outcome
  // (WL011): the new key ran without a lookup, and its request was answered the stored outcome.
  int keys_taken = 0;
  int sent_across = 0;      // client transfers to the other owner's accounts answered 200
  int received_across = 0;  // transfers from the other owner credited here
  // Account rules: rows that left a balance below zero (an overdraft line used), accounts closed.
  int overdrawn_rows = 0;
  int closed_accounts = 0;
  // Postings: transactions and reversals this instance's clients committed, their postings, the
  // postings credited across owners (either way), and the batches Postgres' reversal guard
  // (transaction_reversals) refused.
  int transactions = 0;
  int reversals = 0;
  int postings = 0;
  int postings_across = 0;
  int guard_refusals = 0;
  // Across owners: transactions this instance coordinated with holds on the other instance, and
  // the other instance's with holds here, decided commit and abort.
  int across_committed = 0;
  int across_aborted = 0;
  int owned_committed = 0;
  int owned_aborted = 0;
  // Hold expiry: holds that expired, captures and voids refused as overdue.
  int holds_expired = 0;
  int refused_as_expired = 0;
  // Calls of each LedgerRecords method (ModelLedgerRecords::calls): the read paths exercised.
  std::map<std::string, int> records_calls;
  // --reads: reads answered (and checked), answered with an error, and the acknowledged rows a
  // later page was held to show (read-your-writes).
  int reads_answered = 0;
  int reads_failed = 0;
  int reads_writes_checked = 0;
};

ScheduleResult run_schedule(uint64_t seed, const SimulationOptions& options);

}  // namespace wallet::simulation
