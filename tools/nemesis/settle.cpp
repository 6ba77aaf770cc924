// The final phase of a nemesis run (tools/nemesis/settle.hpp).
#include "tools/nemesis/settle.hpp"

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "tools/nemesis/client_ops.hpp"
#include "tools/nemesis/snapshot.hpp"

namespace wallet::nemesis {
namespace {

constexpr int64_t kSecond = 1000000000;

// Money still moving between owners: credits in transit, and holds of transactions not yet
// settled where the schema has them (holds.transaction_id, migration 012).
int64_t unsettled(const std::string& database_url) {
  pqxx::connection connection(database_url);
  pqxx::read_transaction tx(connection);
  const bool transaction_holds =
      tx.exec1(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'holds'"
            " AND column_name = 'transaction_id'")[0]
          .as<int64_t>() > 0;
  int64_t n = tx.exec1("SELECT count(*) FROM transfers_in_transit")[0].as<int64_t>();
  if (transaction_holds) {
    n += tx.exec1(
               "SELECT count(*) FROM holds WHERE status = 'pending' AND transaction_id IS NOT NULL")
             [0]
                 .as<int64_t>();
  }
  return n;
}

bool wait_quiet(const SettleConfig& config) {
  const int64_t deadline = now_ns() + config.quiesce_deadline_s * kSecond;
  while (now_ns() < deadline) {
    try {
      if (unsettled(config.database_url) == 0) return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "settle: database not reachable yet: %s\n", e.what());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

}  // namespace

int settle(const SettleConfig& config) {
  stress::init_http();
  std::vector<Op> ops = load_history(config.history_path);
  HistoryWriter history(config.history_path);
  ClientConnections connections(config.tx_urls, 10000);
  std::mt19937_64 rng(7);
  int resolved = 0, unresolved = 0;
  std::set<std::string> accounts;
  for (Op& op : ops) {
    if (op.f == "read") continue;
    if (op.args.contains("account")) accounts.insert(op.args["account"].get<std::string>());
    if (op.outcome == "ok" || op.outcome == "fail") continue;
    Op again = op;
    again.attempts = 0;
    again.resolved = true;
    execute(again, connections, rng, now_ns() + config.resolve_deadline_s * kSecond);
    history.complete(again);
    again.outcome == "info" ? ++unresolved : ++resolved;
  }
  std::printf("settle: %d unknown outcomes resolved by their key, %d still unknown\n", resolved,
              unresolved);
  const bool quiet = wait_quiet(config);
  if (!quiet) std::printf("settle: money still in transit after %d s\n", config.quiesce_deadline_s);
  // Final reads: every account on every instance, after everything settled.
  int64_t id = max_op_id(ops);
  int reads = 0;
  for (const std::string& account : accounts) {
    for (size_t i = 0; i < connections.size(); ++i) {
      Op read;
      read.id = ++id;
      read.client = -1;
      read.f = "read";
      read.args = {{"account", account}, {"final", true}};
      read.invoke_ns = now_ns();
      history.invoke(read);
      stress::HttpAnswer answer = connections.at(i).get("/users/" + account + "/balance");
      read.instance = connections.url(i);
      read.complete_ns = now_ns();
      read.status = answer.status;
      read.attempts = 1;
      read.body = nlohmann::json::parse(answer.body, nullptr, false);
      if (read.body.is_discarded()) read.body = answer.body;
      read.outcome = answer.status == 200 ? "ok" : "info";
      history.complete(read);
      ++reads;
    }
  }
  save_snapshot(config.snapshot_path, read_snapshot_from_db(config.database_url));
  std::printf("settle: %d final reads; snapshot in %s\n", reads, config.snapshot_path.c_str());
  return unresolved == 0 && quiet ? 0 : 1;
}

}  // namespace wallet::nemesis
