// wallet-stress's command line (stress_options.hpp): the options in --help order, and the checks
// that turn their text into StressConfig's parsed fields.
#include "tools/wallet_stress/stress_options.hpp"

#include <CLI/CLI.hpp>

#include "domain/money.hpp"
#include "tools/wallet_stress/postings_run.hpp"

namespace wallet::stress {
namespace {

void add_postings_options(CLI::App& app, StressConfig& c) {
  app.add_flag("--postings", c.postings.enabled,
               "transactions of many postings instead of transfers: over each user's default "
               "account and one account per --currencies currency (default EUR,JPY,KWD), and per "
               "currency a fee and a liquidity account, payments with a fee, splits, exchanges, "
               "@world deposits and withdrawals, transactions refused whole and reversals (whole, "
               "partial, racing); needs --database-url");
  app.add_option("--postings-mix", c.postings.mix,
                 "with --postings: the mix by weight of transfer, payment, split, exchange, "
                 "deposit, withdraw, refused and reverse (a reversal group)")
      ->capture_default_str();
  app.add_option("--self-check-postings", c.postings.self_checks,
                 "with --postings: plant a violation for these checks (outcomes, conservation, "
                 "zero-sum, partial, reversals, chain, api, or all), in private copies of the "
                 "tables the SQL checks read or in the driver's own record: each named check "
                 "must then fail")
      ->delimiter(',');
  app.add_option("--api-sample", c.postings.api_sample,
                 "with --postings: read back at most this many transactions answered 201 with "
                 "GET /transactions/{id} (every reversed one first)")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
}

// Where the services answer.
void add_target_options(CLI::App& app, StressConfig& c) {
  app.add_option("--user-service", c.user_service, "user-service base URL")
      ->envname("USER_SERVICE_URL")
      ->capture_default_str();
  app.add_option("--transaction-service", c.transaction_services,
                 "transaction-service base URL; several instances: repeat the option or separate "
                 "the URLs with commas (keys are spread over them, and a duplicate or a retry of a "
                 "key goes to another instance than its first send)")
      ->envname("TRANSACTION_SERVICE_URL")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->capture_default_str();
}

// The load's shape: the users, the transfers, how many at once and how fast.
void add_load_shape_options(CLI::App& app, StressConfig& c) {
  app.add_option("--users", c.users, "users to create through user-service")
      ->check(CLI::Range(2, 1'000'000))
      ->capture_default_str();
  app.add_option("--reuse-users", c.reuse_users,
                 "reuse the user ids of a previous run's --json file instead of creating users")
      ->check(CLI::ExistingFile);
  app.add_option("--fund", c.fund, "deposit per account before the load (0 for none)")
      ->capture_default_str();
  app.add_option("--transfers", c.transfers, "distinct transfers (idempotency keys) to send")
      ->check(CLI::Range(int64_t{1}, int64_t{50'000'000}))
      ->capture_default_str();
  app.add_option("--concurrency", c.concurrency, "worker threads, one keep-alive connection each")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--duplicate-share", c.duplicate_share,
                 "share of transfers sent again with the same Idempotency-Key (half at once, half "
                 "later)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--hot-share", c.hot_share, "share of transfers with the hot account on one side")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--min-amount", c.min_amount, "smallest transfer amount")->capture_default_str();
  app.add_option("--max-amount", c.max_amount, "largest transfer amount")->capture_default_str();
  app.add_option("--seed", c.seed, "seed of the transfer plan")->capture_default_str();
  app.add_option("--duration-limit", c.duration_limit,
                 "stop sending after this many seconds (0: no limit); checks still run")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", c.rate,
                 "send at most this many requests per second in all, each at its time on a fixed "
                 "schedule (0: as fast as the workers go); latency at a given load")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--bulk", c.bulk,
                 "send the schedule N operations at a time through POST /transactions/bulk, each "
                 "with its own key (2..1000; captures, voids and account operations go alone); "
                 "with --rate, operations per second");
}

// The checks beyond the API: in Postgres and on the ledger-events stream.
void add_check_options(CLI::App& app, StressConfig& c) {
  app.add_option("--database-url", c.database_url,
                 "transaction_service Postgres URL: also check the ledger invariants in SQL");
  app.add_option("--kafka-brokers", c.kafka_brokers,
                 "also check the ledger-events stream (consumed from Kafka) against the run");
  app.add_option("--ledger-events-topic", c.ledger_events_topic, "the stream's topic")
      ->capture_default_str();
  app.add_option("--event-wait", c.event_wait_seconds,
                 "seconds the stream gets to catch up with the ledger after the load")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// The result files.
void add_output_options(CLI::App& app, StressConfig& c) {
  app.add_option("--json", c.json_path, "write the JSON result here");
  app.add_option("--html", c.html_path, "write the self-contained HTML report here");
}

// How long a request, and a new account on its way through Kafka, may take.
void add_timeout_options(CLI::App& app, StressConfig& c) {
  app.add_option("--request-timeout-ms", c.request_timeout_ms, "per-request timeout")
      ->check(CLI::Range(100L, 600'000L))
      ->capture_default_str();
  app.add_option("--account-wait", c.account_wait_seconds,
                 "seconds new accounts get to reach transaction-service (via Kafka)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// The operations of the load and the currency accounts they run over; --settle-wait (how long
// transfers in transit get to land before the checks) is listed between them in --help.
void add_operation_options(CLI::App& app, StressConfig& c) {
  app.add_option("--mix", c.mix,
                 "operation mix by weight: transfer, hold, capture, void, withdraw (release 2), "
                 "e.g. transfer=70,hold=15,capture=10,void=5,withdraw=5; with --currencies also "
                 "xfer_acct (account-form transfer between two users' accounts of one currency), "
                 "overdraft (set or lower a line), freeze (freeze, probe, unfreeze) and close "
                 "(empty an account set aside for it, close it, probe)")
      ->capture_default_str();
  app.add_option("--settle-wait", c.settle_wait_seconds,
                 "seconds transfers still in transit between two owners get to land before the "
                 "balance checks and the in-transit checks count them as violations")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--currencies", c.currencies,
                 "each run user also opens one account per listed currency (codes of "
                 "GET /currencies, comma-separated; every other one with an overdraft line of half "
                 "its funding, --fund in that currency), funded with --fund; --mix then takes "
                 "xfer_acct, overdraft, freeze and close, and the accounts are checked per account "
                 "and per currency")
      ->delimiter(',');
}

// The negative controls: each plants a defect that the checks must then report.
void add_self_check_options(CLI::App& app, StressConfig& c) {
  app.add_flag("--self-check-corrupt-in-transit", c.self_check_corrupt_in_transit,
               "with --database-url: plant an in-transit row for a settled transfer and a second "
               "debit for another in a private copy the SQL checks read: the run must then fail");
  app.add_flag("--self-check-corrupt-holds", c.self_check_corrupt_holds,
               "miscount one account's pending holds on purpose: the run must then fail");
  app.add_flag("--self-check-corrupt-accounts", c.self_check_corrupt_accounts,
               "with --currencies and --database-url: plant one defect per accounts check in "
               "private copies the SQL checks read, and miscount the driver's record of one "
               "account: every accounts check must then fail");
  app.add_flag(
      "--self-check-corrupt", c.self_check_corrupt,
      "miscount one expected balance on purpose: the run must then fail (tests the checks)");
}

// The instances' URLs: at least one, none empty; the first is the one of the single-URL fields.
std::string resolve_urls(StressConfig& c) {
  if (c.transaction_services.empty()) return "--transaction-service needs a URL";
  for (const auto& url : c.transaction_services) {
    if (url.empty()) return "--transaction-service has an empty URL";
  }
  c.transaction_service = c.transaction_services.front();
  return "";
}

// Amounts are parsed by the one money parser; "0" is allowed only for --fund.
std::string resolve_amounts(StressConfig& c) {
  auto min = domain::Money::parse_amount(c.min_amount);
  auto max = domain::Money::parse_amount(c.max_amount);
  if (!min || !max)
    return "--min-amount and --max-amount must be amounts like 12.34 (0.01..1000000000.00)";
  if (max->minor() < min->minor()) return "--max-amount is below --min-amount";
  c.min_amount_minor = min->minor();
  c.max_amount_minor = max->minor();
  auto zero = domain::parse_minor_units(c.fund);
  if (zero && *zero == 0 && c.fund.find('-') == std::string::npos) {
    c.fund_minor = 0;
    return "";
  }
  auto fund = domain::Money::parse_amount(c.fund);
  if (!fund) return "--fund must be an amount like 1000.00, or 0";
  c.fund_minor = fund->minor();
  return "";
}

}  // namespace

// Order matters: --help lists the options in the order they are added here.
void add_options(CLI::App& app, StressConfig& c) {
  add_target_options(app, c);
  add_load_shape_options(app, c);
  add_check_options(app, c);
  add_output_options(app, c);
  add_timeout_options(app, c);
  add_operation_options(app, c);
  add_postings_options(app, c);
  app.add_flag("--fee-payments", c.fee_payments,
               "send every transfer as a payment with a fee: POST /transactions of two postings "
               "from its payer in the default currency, the amount to its payee and 1 % of it (at "
               "least 0.01) to a third account drawn from the seed; answered 201, retried, "
               "duplicated, counted and checked like a transfer (needs 3 users or more; not with "
               "--postings, --currencies or a --mix other than transfers)");
  app.add_flag("--quiet,-q", c.quiet, "no progress bar or phase messages on stderr");
  add_self_check_options(app, c);
}

std::string resolve_options(StressConfig& config) {
  std::string problem = resolve_urls(config);
  if (problem.empty()) problem = resolve_amounts(config);
  if (problem.empty()) problem = parse_mix(config);
  if (problem.empty()) problem = check_fee_payments(config);
  if (problem.empty()) problem = check_postings_options(config);
  if (problem.empty()) problem = check_bulk(config);
  return problem;
}

}  // namespace wallet::stress
