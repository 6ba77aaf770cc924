// wallet-stress: drives concurrent, partly duplicated transfers through transaction-service's
// HTTP API, then proves from the answers (and optionally from Postgres) that the ledger kept every
// invariant. Exit status: 0 all invariants held, 1 a violation, 2 the run could not be carried out.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "domain/ids.hpp"
#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/api_verifier.hpp"
#include "tools/wallet_stress/event_verifier.hpp"
#include "tools/wallet_stress/html_report.hpp"
#include "tools/wallet_stress/http_session.hpp"
#include "tools/wallet_stress/load_runner.hpp"
#include "tools/wallet_stress/postings_run.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/sql_verifier.hpp"
#include "tools/wallet_stress/stress_options.hpp"
#include "tools/wallet_stress/stress_report.hpp"
#include "tools/wallet_stress/transfer_plan.hpp"

namespace wallet::stress {
namespace {

// Waits up to 30 s for /readyz: a service that just saw a broker come back (or a probe miss) says
// so for a moment, and a run should not fail for that.
std::string check_ready(const std::string& name, const std::string& url) {
  HttpSession session(url, 5'000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto answer = session.get("/readyz");
    if (answer.status == 200) return "";
    if (std::chrono::steady_clock::now() >= deadline) {
      return name + " at " + url + " is not ready: " +
             (answer.status ? std::to_string(answer.status) + " " + answer.body : answer.error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int finish(StressReport& report) {
  report.latency = summarize_latency(report.stats.latencies_us);
  report.scheduled_latency = summarize_latency(report.stats.scheduled_latencies_us);
  report.histogram = latency_histogram(report.stats.latencies_us);
  print_summary(stdout, report);
  std::fflush(stdout);
  int code = report.exit_code();
  for (const auto& [path, write] : {std::pair{report.config.json_path, &write_json},
                                    std::pair{report.config.html_path, &write_html}}) {
    if (path.empty()) continue;
    auto error = write(path, report);
    if (!error.empty()) {
      std::fprintf(stderr, "wallet-stress: %s\n", error.c_str());
      code = code == 0 ? 2 : code;
    }
  }
  return code;
}

// Every transaction-service instance, then user-service unless the users are reused: the first
// that is not ready, as an error text; empty when all are.
std::string check_services_ready(const StressConfig& config) {
  std::string error;
  for (const auto& url : config.transaction_services) {
    if (error.empty()) error = check_ready("transaction-service", url);
  }
  if (error.empty() && config.reuse_users.empty()) {
    error = check_ready("user-service", config.user_service);
  }
  return error;
}

// --database-url: the invariants again, read from Postgres (with --currencies, per currency
// account too).
void check_in_database(const StressConfig& config, const AccountSetup& setup,
                       const ApiVerification& verified, StressReport& report) {
  note(config.quiet, "checking the invariants in Postgres");
  const InTransitOptions in_transit{config.settle_wait_seconds,
                                    config.self_check_corrupt_in_transit};
  CurrencyAccountsInput currency_accounts;
  if (config.accounts_mode()) {
    currency_accounts.extra = &setup.extra;
    currency_accounts.currencies = &setup.currencies;
    currency_accounts.expected_minor = verified.expected_extra_minor;
    currency_accounts.read_minor = verified.extra_read_minor;
    currency_accounts.expected_line = verified.expected_extra_line;
    currency_accounts.expected_status = verified.expected_extra_status;
    currency_accounts.self_check_corrupt = config.self_check_corrupt_accounts;
  }
  for (auto& i : verify_in_database(config.database_url, setup.accounts, verified.expected_minor,
                                    verified.expected_held_minor, in_transit, currency_accounts)) {
    report.invariants.push_back(std::move(i));
  }
}

// --kafka-brokers: the ledger-events stream since `events_start` against the run's balances.
void check_event_stream(const StressConfig& config, const EventStreamStart& events_start,
                        const AccountSetup& setup, const ApiVerification& verified,
                        StressReport& report) {
  note(config.quiet, "checking the ledger-events stream (" + config.ledger_events_topic + ")");
  for (auto& i : verify_event_stream(config.kafka_brokers, config.ledger_events_topic, events_start,
                                     setup.accounts, verified.expected_minor,
                                     verified.expected_held_minor, config.event_wait_seconds)) {
    report.invariants.push_back(std::move(i));
  }
}

// The transfer modes (all but --postings): the accounts, the plan, the load, then every check,
// each adding its figures and invariants to `report`.
void run_transfers(const StressConfig& config, const EventStreamStart& events_start,
                   StressReport& report) {
  auto setup = prepare_accounts(config, report.run_id);
  report.setup_seconds = setup.seconds;
  for (const auto& a : setup.accounts) report.user_ids.push_back(a.user_id);
  if (!setup.error.empty()) {
    report.error = "setup failed: " + setup.error;
    return;
  }

  auto plan =
      build_plan(config, setup.accounts.size(), report.run_id, setup.extra, setup.currencies);
  plan.currency = setup.payment_currency;
  note(config.quiet, "sending " + std::to_string(plan.transfers.size()) + " operations (" +
                         (config.fee_payments ? "payments with a fee" : config.mix) + ") + " +
                         std::to_string(plan.concurrent_duplicates + plan.late_duplicates) +
                         " duplicates with " + std::to_string(config.concurrency) + " workers");
  auto load = run_load(config, plan, setup.accounts, setup.extra);

  note(config.quiet, "checking the invariants through the API");
  auto verified =
      verify_through_api(config, plan, setup.accounts, load, setup.extra, setup.currencies);
  report.invariants = std::move(verified.invariants);
  if (!config.database_url.empty()) check_in_database(config, setup, verified, report);
  if (!config.kafka_brokers.empty()) {
    check_event_stream(config, events_start, setup, verified, report);
  }
  report.outcomes = verified.outcomes;
  if (config.accounts_mode()) {
    report.accounts = accounts_figures(setup, plan, verified.account_outcomes);
  }
  report.stats = std::move(load.stats);
  report.elapsed_seconds = load.elapsed_seconds;
  report.stopped_early = load.stopped_early;
  report.resolved_after_run = load.resolved_after_run;
}

int run(StressConfig config) {
  StressReport report;
  report.config = config;
  report.run_id = domain::new_uuid_v4().substr(0, 8);
  init_http();
  stop_load_on_sigint();

  report.error = check_services_ready(config);
  if (!report.error.empty()) return finish(report);

  // The stream's end before the run touches an account: every event of the run comes after it.
  EventStreamStart events_start;
  if (!config.kafka_brokers.empty()) {
    events_start = ledger_events_start(config.kafka_brokers, config.ledger_events_topic);
  }
  if (config.postings.enabled) {
    run_postings(config, report);
  } else {
    run_transfers(config, events_start, report);
  }
  return finish(report);
}

}  // namespace
}  // namespace wallet::stress

int main(int argc, char** argv) {
  wallet::stress::StressConfig config;
  CLI::App app{
      "wallet-stress: concurrent, duplicated transfers against transaction-service, then every "
      "ledger invariant checked through the API (and in Postgres with --database-url).\n"
      "Exit status: 0 all invariants held, 1 an invariant was violated, 2 the run could not be "
      "carried out."};
  wallet::stress::add_options(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  const std::string problem = wallet::stress::resolve_options(config);
  if (!problem.empty()) {
    std::fprintf(stderr, "wallet-stress: %s\n", problem.c_str());
    return 2;
  }
  return wallet::stress::run(std::move(config));
}
