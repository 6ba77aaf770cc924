// wallet-stress --postings: setup, funding, load, checks.
#include "tools/wallet_stress/postings_run.hpp"

#include <chrono>

#include "tools/wallet_stress/postings_answers.hpp"
#include "tools/wallet_stress/postings_load.hpp"
#include "tools/wallet_stress/postings_plan.hpp"
#include "tools/wallet_stress/postings_setup.hpp"
#include "tools/wallet_stress/postings_verifier.hpp"
#include "tools/wallet_stress/progress_bar.hpp"

namespace wallet::stress {
namespace {

// Keys of the load (not the funding) by outcome, for the summary's outcomes line.
OutcomeCounts load_outcomes(const PostingPlan& plan, const PostingsLoad& load) {
  OutcomeCounts o;
  for (size_t op = plan.funding_ops; op < plan.ops.size(); ++op) {
    const auto& k = load.keys[op];
    if (!k.sent) continue;
    if (k.answers == 0) {
      ++o.unresolved;
    } else if (k.status == 201) {
      ++o.accepted;
    } else if (k.status == 409) {
      ++o.refused;
    } else {
      ++o.other;
    }
  }
  return o;
}

nlohmann::json setup_figures(const PostingsSetup& setup, const PostingPlan& plan) {
  nlohmann::json codes = nlohmann::json::array();
  for (const auto& c : setup.currencies) codes.push_back(c.code);
  return {{"currencies", codes},
          {"accounts", setup.accounts.size()},
          {"users", setup.run_users()},
          {"funding_transactions", plan.funding_ops},
          {"ghost_account", plan.ghost_account}};
}

}  // namespace

std::string check_postings_options(StressConfig& c) {
  auto& o = c.postings;
  if (!o.enabled) {
    if (!o.self_checks.empty()) return "--self-check-postings needs --postings";
    if (o.mix != PostingsOptions{}.mix) return "--postings-mix needs --postings";
    return "";
  }
  const std::string problem = parse_postings_options(o);
  if (!problem.empty()) return problem;
  if (c.database_url.empty()) return "--postings needs --database-url (most of its checks are SQL)";
  if (c.users < 4) return "--postings needs --users 4 or more (a split pays three others)";
  if (!c.reuse_users.empty()) return "--postings opens new accounts: no --reuse-users";
  if (c.mix != "transfer=100") return "--postings takes --postings-mix, not --mix";
  if (c.rate > 0) return "--postings does not pace: no --rate";
  if (!c.kafka_brokers.empty())
    return "--postings does not check the event stream: no --kafka-brokers";
  if (c.self_check_corrupt || c.self_check_corrupt_holds || c.self_check_corrupt_in_transit ||
      c.self_check_corrupt_accounts) {
    return "--postings has its own negative controls: --self-check-postings";
  }
  if (c.currencies.empty()) c.currencies = {"EUR", "JPY", "KWD"};
  return "";
}

void run_postings(const StressConfig& config, StressReport& report) {
  const auto started = std::chrono::steady_clock::now();
  auto setup = prepare_postings_accounts(config, report.run_id);
  for (const auto& u : setup.users) report.user_ids.push_back(u.user_id);
  if (!setup.error.empty()) {
    report.setup_seconds = setup.seconds;
    report.error = "setup failed: " + setup.error;
    return;
  }
  const auto plan = build_postings_plan(config, setup, report.run_id);
  note(config.quiet, "funding " + std::to_string(setup.accounts.size()) + " accounts with " +
                         std::to_string(plan.funding_ops) + " transactions from @world");
  PostingsLoad load;
  const std::string funding = fund_postings_accounts(config, plan, setup, load);
  report.setup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!funding.empty()) {
    report.error = "setup failed: " + funding;
    return;
  }
  note(config.quiet, "sending " + std::to_string(plan.ops.size() - plan.funding_ops) +
                         " transactions (" + config.postings.mix + ") + " +
                         std::to_string(plan.concurrent_duplicates + plan.late_duplicates) +
                         " duplicates with " + std::to_string(config.concurrency) + " workers");
  run_postings_load(config, plan, setup, load);

  note(config.quiet, "checking the answers and GET /transactions/{id}");
  InvariantResult allowed(
      "postings: every answer is one its request allows (201 with the postings sent, or the "
      "refusal planned)");
  const auto facts = judge_postings_answers(config, plan, setup, load, allowed);
  auto api = check_postings_through_api(config, plan, setup, facts);
  report.invariants.push_back(std::move(allowed));
  note(config.quiet, "checking the invariants in Postgres");
  for (auto& i : verify_postings_in_database({config, plan, setup, load, facts})) {
    report.invariants.push_back(std::move(i));
  }
  report.invariants.push_back(std::move(api));

  report.outcomes = load_outcomes(plan, load);
  report.postings = facts.figures;
  report.postings["setup"] = setup_figures(setup, plan);
  report.stats = std::move(load.stats);
  report.elapsed_seconds = load.elapsed_seconds;
  report.stopped_early = load.stopped_early;
  report.resolved_after_run = load.resolved_after_run;
}

}  // namespace wallet::stress
