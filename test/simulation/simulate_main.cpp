// wallet-simulate: runs seeded schedules of the protocol simulation (simulation.hpp) and reports
// the first failing seed with its trace and the one command that replays it.
//
//   wallet-simulate --seeds 2000              seeds 1..2000
//   wallet-simulate --seed 1234 --trace       one schedule, with its trace
//   wallet-simulate --seeds 2000 --no-stalls --no-retention --no-returns
//                                             the schedules before issue 23's time and returns
//   wallet-simulate --seeds 2000 --release2 --account-rules
//                                             with overdraft lines, freezes and closings
//   wallet-simulate --seeds 2000 --release2 --account-rules --postings
//                                             and transactions of many postings, reversals
//   wallet-simulate --seeds 300 --expiry      holds of 1-3 s racing their expiry and the sweep
//   wallet-simulate --seeds 2000 --expect-failure
//                                             negative control: exit 0 only if a seed fails
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include "test/simulation/simulation.hpp"

using wallet::simulation::run_schedule;
using wallet::simulation::ScheduleResult;
using wallet::simulation::SimulationOptions;

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of the ledger actor protocol"};
  uint64_t seeds = 500;
  uint64_t first = 1;
  std::optional<uint64_t> only;
  bool expect_failure = false;
  SimulationOptions options;
  app.add_option("--seeds", seeds, "how many schedules to run");
  app.add_option("--first-seed", first, "the first seed of --seeds");
  app.add_option("--seed", only, "run only this seed (replay)");
  app.add_flag("--trace", options.trace, "print the trace even when the schedule passes");
  app.add_flag("--release2", options.release2, "also send withdrawals and holds");
  app.add_flag("--account-rules", options.account_rules,
               "also change accounts' rules: overdraft lines, freezes, unfreezes, closings");
  app.add_flag("--postings", options.postings,
               "also send transactions of many postings and reversals (two currencies)");
  app.add_flag("--expect-failure", expect_failure,
               "negative control: succeed only if some schedule fails");
  app.add_option("--accounts", options.accounts, "accounts per schedule");
  app.add_option("--operations", options.max_operations, "client requests per schedule");
  app.add_option("--steps", options.faulty_steps, "steps with faults per schedule");
  app.add_option("--owner-changes", options.owner_change_percent,
                 "percent of schedules in which another instance takes a partition");
  app.add_flag("--unfenced", options.unfenced,
               "negative control: commit without the ownership fence (with --expect-failure)");
  bool keep_going = false;
  app.add_flag("--keep-going", keep_going,
               "run every seed; print each failing seed with its first failure (a survey)");
  bool no_stalls = false, no_retention = false, no_returns = false;
  app.add_flag("--no-stalls", no_stalls,
               "no stalled lookups and no deadline check (issue 23's time off)");
  app.add_flag("--no-retention", no_retention,
               "the service's 24 h idempotency TTL: no retention crossed, no retention check");
  app.add_flag("--no-returns", no_returns,
               "partitions given away come back without another instance's commits meanwhile, "
               "their notice at once");
  app.add_flag("--notice-after-serving", options.notice_after_serving,
               "negative control: a partition taken back is served before its accounts hear of it "
               "(with --expect-failure)");
  app.add_flag("--early-forgetting", options.early_forgetting,
               "negative control: the store forgets outcomes at half their TTL (with "
               "--expect-failure)");
  app.add_flag("--across-away", options.across_away,
               "the other instance also places and settles holds of transactions in a partition "
               "given away to it (what found the writer's ambiguous probe of a hold's closing)");
  app.add_flag("--expiry", options.expiry,
               "holds placed with timeouts of 1-3 s, captured and voided while the account actors "
               "and the hold sweep expire them (implies --release2)");
  app.add_option("--hold-clock-skew", options.hold_clock_skew_ms,
                 "negative control of --expiry: the ledger's hold clock runs this many ms off the "
                 "store's (with --expect-failure)");
  app.add_flag("--reads", options.reads,
               "clients also read through the Ledger (history, balances now and past, an "
               "account's rows, queries, totals, in transit, partitions) among the money "
               "operations, checked against the model's committed rows");
  app.add_flag("--lagging-history", options.lagging_history,
               "negative control of --reads: a first page of history misses the account's newest "
               "row (with --expect-failure)");
  bool one_owner = false;
  app.add_flag("--one-owner", one_owner,
               "no second owner: no transfers across owners (the schedules before release 2's "
               "section 7)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::off);  // the writer's warnings are the faults we inject
  options.two_owners = !one_owner;
  options.stalls = !no_stalls;
  options.retention = !no_retention;
  options.returns = !no_returns;
  if (options.expiry) options.release2 = true;

  if (only) {
    first = *only;
    seeds = 1;
  }
  const auto started = std::chrono::steady_clock::now();
  uint64_t ran = 0;
  long steps = 0;
  long operations = 0;
  long owner_changes = 0;
  long sent_across = 0, received_across = 0;
  long overdrawn_rows = 0, closed_accounts = 0;
  long transactions = 0, reversals = 0, postings = 0, postings_across = 0, guard_refusals = 0;
  long across_committed = 0, across_aborted = 0, owned_committed = 0, owned_aborted = 0;
  long holds_expired = 0, refused_as_expired = 0;
  long reads_answered = 0, reads_failed = 0, reads_writes_checked = 0;
  uint64_t fenced = 0;
  long keys_taken = 0;
  std::optional<ScheduleResult> failed;
  std::map<std::string, long> answers;
  std::map<std::string, long> records_calls;
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    auto result = run_schedule(seed, options);
    ++ran;
    steps += result.steps;
    operations += result.operations;
    for (const auto& [what, n] : result.answers) answers[what] += n;
    for (const auto& [method, n] : result.records_calls) records_calls[method] += n;
    owner_changes += result.owner_changed ? 1 : 0;
    fenced += result.fenced_batches;
    keys_taken += result.keys_taken;
    sent_across += result.sent_across;
    received_across += result.received_across;
    overdrawn_rows += result.overdrawn_rows;
    closed_accounts += result.closed_accounts;
    transactions += result.transactions;
    reversals += result.reversals;
    postings += result.postings;
    postings_across += result.postings_across;
    guard_refusals += result.guard_refusals;
    across_committed += result.across_committed;
    across_aborted += result.across_aborted;
    owned_committed += result.owned_committed;
    owned_aborted += result.owned_aborted;
    holds_expired += result.holds_expired;
    refused_as_expired += result.refused_as_expired;
    reads_answered += result.reads_answered;
    reads_failed += result.reads_failed;
    reads_writes_checked += result.reads_writes_checked;
    if (options.trace || (!result.ok && !keep_going)) {
      for (const auto& line : result.trace) std::cout << line << '\n';
    }
    if (!result.ok && keep_going) {
      std::printf("simulate: seed %llu failed (%zu failures): %s\n",
                  static_cast<unsigned long long>(seed), result.failures.size(),
                  result.failures.front().c_str());
      if (!failed) failed = std::move(result);
      continue;
    }
    if (!result.ok) {
      failed = std::move(result);
      break;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "simulate: %llu schedules, %ld steps, %ld client requests in %.1f s (%.0f schedules/s)\n",
      static_cast<unsigned long long>(ran), steps, operations, seconds,
      seconds > 0 ? static_cast<double>(ran) / seconds : 0.0);
  std::string tally;
  for (const auto& [what, n] : answers) tally += "  " + what + ": " + std::to_string(n);
  std::printf("simulate: answers by endpoint and status:%s\n", tally.c_str());
  std::string calls;
  for (const auto& [method, n] : records_calls) calls += "  " + method + ": " + std::to_string(n);
  std::printf("simulate: LedgerRecords calls by method:%s\n",
              calls.empty() ? " none (no ModelLedgerRecords in these schedules)" : calls.c_str());
  std::printf(
      "simulate: %ld schedules with an owner change, %llu batches of the former owner refused by "
      "the fence%s\n",
      owner_changes, static_cast<unsigned long long>(fenced),
      failed ? "" : ", none of its batches committed after the change");
  std::printf(
      "simulate: %ld commits refused because a key already held a stored outcome (WL011: run "
      "without a lookup, then answered that outcome)\n",
      keys_taken);
  std::printf(
      "simulate: across owners: %ld client transfers debited here and credited by the other "
      "instance, %ld transfers from it credited here (each exactly once%s)\n",
      sent_across, received_across,
      failed ? " unless a failure says otherwise" : ", nothing left in transit");
  if (options.account_rules) {
    std::printf(
        "simulate: account rules: %ld rows left a balance below zero, %ld accounts closed%s\n",
        overdrawn_rows, closed_accounts,
        failed ? "" : "; no debit or hold committed on a frozen or closed account");
  }
  if (options.postings) {
    std::printf(
        "simulate: postings: %ld transactions and %ld reversals committed with %ld postings, %ld "
        "postings credited across owners, %ld batches refused by the reversal guard%s\n",
        transactions, reversals, postings, postings_across, guard_refusals,
        failed ? "" : "; every transaction whole, nothing reversed twice");
    std::printf(
        "simulate: transactions across owners: coordinated here with holds on the other instance "
        "%ld decided commit, %ld abort; the other instance's with holds here %ld commit, %ld "
        "abort%s\n",
        across_committed, across_aborted, owned_committed, owned_aborted,
        failed ? "" : "; every hold settled as decided, no debits applied in part");
  }
  if (options.expiry) {
    std::printf(
        "simulate: expiry: %ld holds expired, %ld captures or voids refused as overdue while "
        "Postgres still held them pending%s\n",
        holds_expired, refused_as_expired,
        failed ? "" : "; no money moved on an expired hold, every overdue hold closed");
  }
  if (options.reads) {
    std::printf(
        "simulate: reads: %ld answered and checked, %ld answered with an error, %ld acknowledged "
        "rows a later page had to show%s\n",
        reads_answered, reads_failed, reads_writes_checked,
        failed ? "" : "; every page, balance, total and transfer in transit as committed");
  }
  if (failed) {
    std::printf("simulate: seed %llu FAILED:\n", static_cast<unsigned long long>(failed->seed));
    for (const auto& f : failed->failures) std::printf("  - %s\n", f.c_str());
    std::printf(
        "replay: %s --seed %llu --accounts %d --operations %d --steps %d --owner-changes "
        "%d%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s --trace\n",
        argv[0], static_cast<unsigned long long>(failed->seed), options.accounts,
        options.max_operations, options.faulty_steps, options.owner_change_percent,
        options.release2 ? " --release2" : "", options.account_rules ? " --account-rules" : "",
        options.postings ? " --postings" : "", options.unfenced ? " --unfenced" : "",
        options.two_owners ? "" : " --one-owner", options.stalls ? "" : " --no-stalls",
        options.retention ? "" : " --no-retention", options.returns ? "" : " --no-returns",
        options.early_forgetting ? " --early-forgetting" : "",
        options.notice_after_serving ? " --notice-after-serving" : "",
        options.across_away ? " --across-away" : "", options.expiry ? " --expiry" : "",
        options.hold_clock_skew_ms != 0
            ? (" --hold-clock-skew=" + std::to_string(options.hold_clock_skew_ms)).c_str()
            : "",
        options.reads ? " --reads" : "", options.lagging_history ? " --lagging-history" : "");
    if (expect_failure) {
      std::printf("simulate: the negative control was caught, as it must be\n");
      return 0;
    }
    return 1;
  }
  if (expect_failure) {
    std::printf("simulate: the negative control was NOT caught in %llu schedules\n",
                static_cast<unsigned long long>(ran));
    return 1;
  }
  std::printf("simulate: all schedules passed\n");
  return 0;
}
