// wallet-nemesis: the workload, the final phase and the checker of scripts/nemesis
// (docs/nemesis.md). Three subcommands, so the checker runs offline on a run's files:
//   run     the clients, writing the history
//   settle  after the heal: unknown outcomes resolved by key, final reads, the database snapshot
//   check   the history against the snapshot; --plant DEFECT is a negative control that exits 0
//           only when the checker catches the planted defect
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <map>

#include "tools/nemesis/checker.hpp"
#include "tools/nemesis/plant.hpp"
#include "tools/nemesis/settle.hpp"
#include "tools/nemesis/workload.hpp"

namespace {

using namespace wallet::nemesis;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The nemesis log: one JSON line per fault start and heal, in time order.
std::vector<nlohmann::json> nemesis_events(const std::string& path) {
  std::vector<nlohmann::json> events;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("t_ns")) events.push_back(std::move(j));
  }
  return events;
}

std::map<std::string, int> faults_by_kind(const std::vector<nlohmann::json>& events) {
  std::map<std::string, int> kinds;
  for (const auto& e : events) {
    if (e.value("event", "") == "start") ++kinds[e.value("kind", "?")];
  }
  return kinds;
}

// Where an anomaly's op sits among the faults: "during partition-halves (...)" or "3.2 s after
// the heal of lossy-link (tx2 30%)", so a reader sees which fault it followed.
std::string among_faults(int64_t at_ns, const std::vector<nlohmann::json>& events) {
  const nlohmann::json* last = nullptr;
  for (const auto& e : events) {
    if (e.at("t_ns").get<int64_t>() > at_ns) break;
    last = &e;
  }
  if (!at_ns || !last) return "";
  const std::string what = (*last).value("kind", "?") + " (" + (*last).value("detail", "") + ")";
  if ((*last).value("event", "") == "start") return " [during " + what + "]";
  const double after_s = static_cast<double>(at_ns - (*last).at("t_ns").get<int64_t>()) / 1e9;
  char text[64];
  std::snprintf(text, sizeof text, " [%.1f s after the heal of ", after_s);
  return text + what + "]";
}

void print_report(const CheckResult& r, const std::vector<nlohmann::json>& events,
                  size_t anomalies_shown) {
  const std::map<std::string, int> faults = faults_by_kind(events);
  int total = 0;
  for (const auto& [kind, n] : faults) total += n;
  std::printf("faults: %d", total);
  for (const auto& [kind, n] : faults) std::printf(", %s %d", kind.c_str(), n);
  std::printf("\nops: %d checked, %d resolved by their key after the heal;", r.ops_checked,
              r.resolved_by_key);
  for (const auto& [what, n] : r.ops_by_outcome) std::printf(" %s %d,", what.c_str(), n);
  std::printf("\nledger rows checked: %d; balance reads checked: %d\n", r.rows_checked,
              r.reads_checked);
  std::map<std::string, int> by_property;
  for (const Anomaly& a : r.anomalies) ++by_property[a.property];
  std::printf("anomalies: %zu", r.anomalies.size());
  for (const auto& [p, n] : by_property) std::printf(", %s %d", p.c_str(), n);
  std::printf("\n");
  for (size_t i = 0; i < r.anomalies.size() && i < anomalies_shown; ++i) {
    std::printf("  %s: %s%s\n", r.anomalies[i].property.c_str(), r.anomalies[i].detail.c_str(),
                among_faults(r.anomalies[i].at_ns, events).c_str());
  }
  if (r.anomalies.size() > anomalies_shown)
    std::printf("  ... and %zu more\n", r.anomalies.size() - anomalies_shown);
}

int run_check(const std::string& history, const std::string& snapshot_path,
              const std::string& nemesis_log, const std::string& defect) {
  std::vector<Op> ops = load_history(history);
  Snapshot snapshot = load_snapshot(snapshot_path);
  if (!defect.empty()) {
    const std::string what = plant(defect, ops, snapshot);
    const CheckResult r = check(ops, snapshot);
    const int caught = r.count(property_caught_by(defect));
    std::printf("negative control %s (%s): %s (%d %s anomalies, %zu in all)\n", defect.c_str(),
                what.c_str(), caught ? "caught" : "NOT CAUGHT", caught,
                property_caught_by(defect).c_str(), r.anomalies.size());
    return caught ? 0 : 1;
  }
  const CheckResult r = check(ops, snapshot);
  print_report(r, nemesis_events(nemesis_log), 50);
  std::printf("nemesis check: %s\n", r.anomalies.empty() ? "PASSED, no anomaly" : "FAILED");
  return r.anomalies.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wallet-nemesis: workload, final phase and checker of scripts/nemesis"};
  app.require_subcommand(1);

  WorkloadConfig work;
  std::string tx_urls, user_urls;
  auto* run = app.add_subcommand("run", "clients send keyed operations and record the history");
  run->add_option("--seed", work.seed)->required();
  run->add_option("--seconds", work.seconds);
  run->add_option("--clients", work.clients);
  run->add_option("--accounts", work.accounts);
  run->add_option("--history", work.history_path)->required();
  run->add_option("--transaction-service", tx_urls, "comma-separated instance URLs")->required();
  run->add_option("--user-service", user_urls, "comma-separated instance URLs")->required();

  SettleConfig settle_config;
  auto* settle_cmd =
      app.add_subcommand("settle", "resolve unknown outcomes, final reads, snapshot");
  settle_cmd->add_option("--history", settle_config.history_path)->required();
  settle_cmd->add_option("--transaction-service", tx_urls)->required();
  settle_cmd->add_option("--database-url", settle_config.database_url)->required();
  settle_cmd->add_option("--snapshot", settle_config.snapshot_path)->required();

  std::string history, snapshot, nemesis_log, defect;
  auto* check_cmd = app.add_subcommand("check", "check the history against the final database");
  check_cmd->add_option("--history", history)->required();
  check_cmd->add_option("--snapshot", snapshot)->required();
  check_cmd->add_option("--nemesis", nemesis_log, "the nemesis log, for the faults by kind");
  check_cmd->add_option("--plant", defect,
                        "negative control: lost-write, doubled-credit, stale-read");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*run) {
      work.tx_urls = split(tx_urls);
      work.user_urls = split(user_urls);
      return run_workload(work);
    }
    if (*settle_cmd) {
      settle_config.tx_urls = split(tx_urls);
      return settle(settle_config);
    }
    return run_check(history, snapshot, nemesis_log, defect);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wallet-nemesis: %s\n", e.what());
    return 2;
  }
}
