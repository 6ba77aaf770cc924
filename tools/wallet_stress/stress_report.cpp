// StressReport: the text summary and the JSON result.
#include "tools/wallet_stress/stress_report.hpp"

#include <fstream>

namespace wallet::stress {
namespace {

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

nlohmann::json latency_json(const LatencySummary& l) {
  return {{"p50", l.p50_ms},
          {"p90", l.p90_ms},
          {"p99", l.p99_ms},
          {"max", l.max_ms},
          {"mean", l.mean_ms}};
}

nlohmann::json status_json(const std::array<uint64_t, kStatusClasses>& statuses) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kStatusClasses; ++i) {
    out[status_class_name(static_cast<StatusClass>(i))] = statuses[i];
  }
  return out;
}

void print_statuses(std::FILE* out, const std::array<uint64_t, kStatusClasses>& statuses) {
  for (size_t i = 0; i < kStatusClasses; ++i) {
    std::fprintf(out, " %s: %llu", status_class_name(static_cast<StatusClass>(i)),
                 ull(statuses[i]));
  }
}

// --postings: keys by outcome, the accounts, per kind, the reversals.
void print_postings(std::FILE* out, const StressReport& r) {
  const auto& p = r.postings;
  std::fprintf(out,
               "  outcomes        %llu answered 201, %llu refused 409, %llu refused 400/404 or "
               "other, %llu unresolved\n",
               ull(r.outcomes.accepted), ull(r.outcomes.refused), ull(r.outcomes.other),
               ull(r.outcomes.unresolved));
  const auto& setup = p["setup"];
  std::string codes;
  for (const auto& c : setup["currencies"])
    codes += (codes.empty() ? "" : ",") + c.get<std::string>();
  std::fprintf(out,
               "  accounts        %llu in %s (%llu users, and per currency a fee and a liquidity "
               "account); funded by %llu transactions from @world\n",
               ull(setup["accounts"].get<uint64_t>()), codes.c_str(),
               ull(setup["users"].get<uint64_t>()),
               ull(setup["funding_transactions"].get<uint64_t>()));
  std::fprintf(out, "  kinds           %s\n", postings_kinds_line(p).c_str());
  const auto& v = p["reversals"];
  std::fprintf(out,
               "  reversals       %llu whole, %llu partial, %llu racing in %llu groups (%llu "
               "answered 201); %llu transactions answered 201 in all\n",
               ull(v["whole"].get<uint64_t>()), ull(v["partial"].get<uint64_t>()),
               ull(v["racing"].get<uint64_t>()), ull(v["racing_groups"].get<uint64_t>()),
               ull(v["racing_winners"].get<uint64_t>()),
               ull(p["transactions_answered_201"].get<uint64_t>()));
}

// The run's heading line, and its error when it had one.
void print_heading(std::FILE* out, const StressReport& r) {
  std::fprintf(out,
               "wallet-stress run %s: %zu users, concurrency %d, load %.2f s (setup %.2f s)%s\n",
               r.run_id.c_str(), r.user_ids.size(), r.config.concurrency, r.elapsed_seconds,
               r.setup_seconds, r.stopped_early ? ", stopped early" : "");
  if (!r.error.empty()) std::fprintf(out, "  error           %s\n", r.error.c_str());
}

// What was sent and how it was answered (with --postings, per kind and the reversals too).
void print_requests(std::FILE* out, const StressReport& r) {
  const auto& s = r.stats;
  const char* sent = !r.postings.is_null()   ? "transactions"
                     : r.config.fee_payments ? "transfers as payments with a fee"
                                             : "transfers";
  std::fprintf(out, "  requests        %llu (%llu %s, %llu duplicates, %llu retries)\n",
               ull(s.requests), ull(s.transfers_sent), sent, ull(s.duplicates_sent),
               ull(s.retries));
  if (r.postings.is_null()) {
    std::fprintf(out,
                 "  outcomes        %llu accepted, %llu refused insufficient_funds, %llu other, "
                 "%llu unresolved\n",
                 ull(r.outcomes.accepted), ull(r.outcomes.refused), ull(r.outcomes.other),
                 ull(r.outcomes.unresolved));
  } else {
    print_postings(out, r);
  }
}

// --currencies: the currency accounts and their operations (StressReport::accounts).
void print_currency_accounts(std::FILE* out, const nlohmann::json& a) {
  std::string codes;
  for (const auto& c : a["currencies"]) codes += (codes.empty() ? "" : ",") + c.get<std::string>();
  std::fprintf(
      out, "  accounts        %llu in %s (%llu with an overdraft line, %llu set aside to close)\n",
      ull(a["accounts"].get<uint64_t>()), codes.c_str(),
      ull(a["with_overdraft_line"].get<uint64_t>()), ull(a["set_aside_to_close"].get<uint64_t>()));
  const auto& x = a["xfer_acct"];
  const auto& o = a["overdraft"];
  std::fprintf(
      out,
      "  account ops     xfer_acct %llu (%llu accepted, %llu insufficient_funds, %llu "
      "account_frozen); overdraft %llu (%llu set, %llu limit_below_debt); freeze %llu; "
      "close %llu; %llu of %llu account operations answered as specified\n",
      ull(x["sent"].get<uint64_t>()), ull(x["accepted"].get<uint64_t>()),
      ull(x["refused_insufficient_funds"].get<uint64_t>()),
      ull(x["refused_account_frozen"].get<uint64_t>()), ull(o["sent"].get<uint64_t>()),
      ull(o["set"].get<uint64_t>()), ull(o["refused_limit_below_debt"].get<uint64_t>()),
      ull(a["freeze"].get<uint64_t>()), ull(a["close"].get<uint64_t>()),
      ull(a["account_operations_as_specified"].get<uint64_t>()),
      ull(o["sent"].get<uint64_t>() + a["freeze"].get<uint64_t>() + a["close"].get<uint64_t>()));
}

// Throughput and latency; paced runs (--rate) also how well the schedule was kept.
void print_speed(std::FILE* out, const StressReport& r) {
  std::fprintf(out, "  throughput      %.1f req/s, %.1f %s/s\n", r.requests_per_second(),
               r.transfers_per_second(), r.postings.is_null() ? "transfers" : "transactions");
  std::fprintf(out, "  latency ms      p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (mean %.2f)\n",
               r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms,
               r.latency.mean_ms);
  if (r.config.rate > 0) {
    const auto& l = r.scheduled_latency;
    std::fprintf(
        out,
        "  paced           %.1f sends/s, %llu sent more than %.0f ms late; latency from the "
        "schedule ms p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
        r.config.rate, ull(r.stats.late_sends), kLateSendUs / 1000.0, l.p50_ms, l.p90_ms, l.p99_ms,
        l.max_ms);
  }
}

// The answers by status class, per instance when there are several, and the connections.
void print_status_breakdown(std::FILE* out, const StressReport& r) {
  const auto& s = r.stats;
  std::fprintf(out, "  status         ");
  print_statuses(out, s.statuses);
  // Several instances: the load phase's requests and statuses per instance.
  const auto& urls = r.config.transaction_services;
  for (size_t i = 0; urls.size() > 1 && i < urls.size(); ++i) {
    const InstanceStats none;
    const auto& in = i < s.instances.size() ? s.instances[i] : none;
    std::fprintf(out, "\n  %-15s %s: %llu requests,", i == 0 ? "per instance" : "", urls[i].c_str(),
                 ull(in.requests));
    print_statuses(out, in.statuses);
  }
  std::fprintf(out, "\n  connections     %ld opened by %d workers\n", s.connections_opened,
               r.config.concurrency);
}

// One PASS/FAIL line per invariant with its details, then the verdict.
void print_invariants(std::FILE* out, const StressReport& r) {
  std::fprintf(out, "  invariants\n");
  for (const auto& i : r.invariants) {
    std::fprintf(out, "    %s  %s", i.passed ? "PASS" : "FAIL", i.name.c_str());
    if (!i.passed) std::fprintf(out, " (%llu violations)", ull(i.violations));
    std::fprintf(out, "\n");
    for (const auto& d : i.details) std::fprintf(out, "          %s\n", d.c_str());
    if (!i.note.empty()) std::fprintf(out, "          note: %s\n", i.note.c_str());
  }
  size_t passed = 0;
  for (const auto& i : r.invariants) passed += i.passed ? 1 : 0;
  std::fprintf(out, "  result          %s (%zu of %zu invariants held)\n",
               r.all_passed() ? "PASS" : "FAIL", passed, r.invariants.size());
}

}  // namespace

std::string postings_kinds_line(const nlohmann::json& postings) {
  std::string line;
  for (const auto& [name, k] : postings["kinds"].items()) {
    if (name == "fund") continue;
    line += (line.empty() ? "" : "; ") + name + " " + std::to_string(k["sent"].get<uint64_t>()) +
            "/" + std::to_string(k["accepted"].get<uint64_t>());
    std::string refused;
    for (const auto& [code, n] : k["refused"].items()) {
      refused += (refused.empty() ? "" : ", ") + code + " " + std::to_string(n.get<uint64_t>());
    }
    if (k["retried"].get<uint64_t>() > 0) {
      refused += (refused.empty() ? "" : ", ") + std::to_string(k["retried"].get<uint64_t>()) +
                 " sends retried";
    }
    if (!refused.empty()) line += " (" + refused + ")";
  }
  return line + "  (sent/201, refusals)";
}

bool StressReport::all_passed() const {
  if (!error.empty() || invariants.empty()) return false;
  for (const auto& i : invariants) {
    if (!i.passed) return false;
  }
  return true;
}

double StressReport::requests_per_second() const {
  return elapsed_seconds > 0 ? static_cast<double>(stats.requests) / elapsed_seconds : 0;
}

double StressReport::transfers_per_second() const {
  return elapsed_seconds > 0 ? static_cast<double>(stats.transfers_sent) / elapsed_seconds : 0;
}

int StressReport::exit_code() const {
  if (!error.empty()) return 2;
  return all_passed() ? 0 : 1;
}

nlohmann::json accounts_figures(const AccountSetup& setup, const TransferPlan& plan,
                                const AccountOutcomes& o) {
  nlohmann::json currencies = nlohmann::json::array();
  for (const auto& c : setup.currencies) currencies.push_back(c.code);
  uint64_t with_line = 0, closable = 0;
  for (const auto& a : setup.extra) {
    with_line += a.overdraft_minor > 0 ? 1 : 0;
    closable += a.closable ? 1 : 0;
  }
  uint64_t planned = 0;
  for (const auto& t : plan.transfers) planned += on_currency_accounts(t.kind) ? 1 : 0;
  return {{"currencies", currencies},
          {"accounts", setup.extra.size()},
          {"with_overdraft_line", with_line},
          {"set_aside_to_close", closable},
          {"operations_planned", planned},
          {"xfer_acct",
           {{"sent", o.xfer_acct},
            {"accepted", o.xfer_acct_accepted},
            {"refused_insufficient_funds", o.xfer_acct_insufficient},
            {"refused_account_frozen", o.xfer_acct_frozen}}},
          {"overdraft",
           {{"sent", o.overdraft},
            {"set", o.overdraft_set},
            {"refused_limit_below_debt", o.overdraft_below_debt}}},
          {"freeze", o.freeze},
          {"close", o.close},
          {"account_operations_as_specified", o.sequences_as_specified}};
}

nlohmann::json to_json(const StressReport& r) {
  nlohmann::json invariants = nlohmann::json::array();
  for (const auto& i : r.invariants) {
    invariants.push_back({{"name", i.name},
                          {"passed", i.passed},
                          {"violations", i.violations},
                          {"details", i.details},
                          {"note", i.note}});
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (size_t s = 0; s < r.stats.timeline.size(); ++s) {
    const auto& b = r.stats.timeline[s];
    timeline.push_back({{"second", s},
                        {"requests", b.requests},
                        {"transfers", b.transfers},
                        {"accepted", b.accepted}});
  }
  nlohmann::json instances = nlohmann::json::array();
  for (size_t i = 0; i < r.config.transaction_services.size(); ++i) {
    const InstanceStats none;
    const auto& in = i < r.stats.instances.size() ? r.stats.instances[i] : none;
    instances.push_back({{"url", r.config.transaction_services[i]},
                         {"requests", in.requests},
                         {"status", status_json(in.statuses)}});
  }
  // Paced runs: whether the workers kept the schedule, and latency counted from it.
  nlohmann::json paced = nullptr;
  if (r.config.rate > 0) {
    paced = {{"rate", r.config.rate},
             {"late_sends", r.stats.late_sends},
             {"late_after_ms", kLateSendUs / 1000.0},
             {"latency_from_schedule_ms", latency_json(r.scheduled_latency)}};
  }
  nlohmann::json histogram = nlohmann::json::array();
  for (const auto& bin : r.histogram)
    histogram.push_back({{"upper_ms", bin.upper_ms}, {"count", bin.count}});
  nlohmann::json out = {{"tool", "wallet-stress"},
                        {"run_id", r.run_id},
                        {"config", to_json(r.config)},
                        {"users", r.user_ids},
                        {"error", r.error},
                        {"figures",
                         {{"setup_seconds", r.setup_seconds},
                          {"elapsed_seconds", r.elapsed_seconds},
                          {"stopped_early", r.stopped_early},
                          {"requests", r.stats.requests},
                          {"transfers", r.stats.transfers_sent},
                          {"duplicates", r.stats.duplicates_sent},
                          {"retries", r.stats.retries},
                          {"resolved_after_run", r.resolved_after_run},
                          {"accepted", r.outcomes.accepted},
                          {"refused_insufficient_funds", r.outcomes.refused},
                          {"other_outcomes", r.outcomes.other},
                          {"unresolved", r.outcomes.unresolved},
                          {"requests_per_second", r.requests_per_second()},
                          {"transfers_per_second", r.transfers_per_second()},
                          {"connections_opened", r.stats.connections_opened},
                          {"latency_ms", latency_json(r.latency)},
                          {"paced", paced}}},
                        {"status", status_json(r.stats.statuses)},
                        {"instances", instances},
                        {"invariants", invariants},
                        {"all_invariants_passed", r.all_passed()},
                        {"exit_code", r.exit_code()},
                        {"timeline", timeline},
                        {"latency_histogram", histogram}};
  if (!r.accounts.is_null()) out["accounts"] = r.accounts;
  if (!r.postings.is_null()) out["postings"] = r.postings;
  return out;
}

void print_summary(std::FILE* out, const StressReport& r) {
  print_heading(out, r);
  if (!r.error.empty() && r.stats.requests == 0) {
    std::fprintf(out, "  result          FAIL (the run could not be carried out)\n");
    return;
  }
  print_requests(out, r);
  if (!r.accounts.is_null()) print_currency_accounts(out, r.accounts);
  print_speed(out, r);
  print_status_breakdown(out, r);
  print_invariants(out, r);
}

std::string write_json(const std::string& path, const StressReport& report) {
  std::ofstream file(path);
  if (!file) return "cannot write " + path;
  file << to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return file ? "" : "writing " + path + " failed";
}

}  // namespace wallet::stress
