// StressReport: everything one run measured and checked, printed as the text summary (stdout) and
// written as the JSON result (--json); html_report.hpp renders the same data as HTML.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/wallet_stress/api_verifier.hpp"
#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/run_stats.hpp"
#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

struct StressReport {
  StressConfig config;
  std::string run_id;
  std::vector<std::string> user_ids;
  double setup_seconds = 0;
  RunStats stats;
  double elapsed_seconds = 0;  // the load phase
  bool stopped_early = false;
  uint64_t resolved_after_run = 0;
  LatencySummary latency;            // each request, from its send to its answer
  LatencySummary scheduled_latency;  // paced runs: each send, from its scheduled instant
  std::vector<HistogramBin> histogram;
  OutcomeCounts outcomes;
  std::vector<InvariantResult> invariants;
  std::string error;  // set when the run could not be carried out
  // With --currencies: the accounts opened and what the account operations came to; null
  // otherwise (and then neither printed nor written).
  nlohmann::json accounts = nullptr;
  // With --postings: its accounts and the counts per kind of transaction (postings_answers.hpp);
  // null otherwise.
  nlohmann::json postings = nullptr;

  bool all_passed() const;
  double requests_per_second() const;
  double transfers_per_second() const;
  // 0: every invariant held; 1: a violation; 2: the run could not be carried out.
  int exit_code() const;
};

// StressReport::accounts of a run with --currencies.
nlohmann::json accounts_figures(const AccountSetup& setup, const TransferPlan& plan,
                                const AccountOutcomes& outcomes);

// The --postings lines of the summary: per kind "sent/201" and the refusals by code.
std::string postings_kinds_line(const nlohmann::json& postings);

nlohmann::json to_json(const StressReport& report);
void print_summary(std::FILE* out, const StressReport& report);
// Returns an error text, empty on success.
std::string write_json(const std::string& path, const StressReport& report);

}  // namespace wallet::stress
