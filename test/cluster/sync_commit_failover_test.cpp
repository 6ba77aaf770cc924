// Acknowledged commits across a failover (issue 23, bug 3). With the primary's walsender stopped,
// keyed transfers wait in their commit for the synchronous standby; the service's connections to
// the primary are cut (a network blip), so the ledger writer has to resolve its in-doubt batches
// on the primary; then the primary node dies and Patroni promotes the standby. Every transfer a
// client got 200 for must be on the new primary exactly once, and transaction-service must show
// the new primary's balances. Terminating a backend that waits for synchronous replication commits
// it on the primary alone, so a lookup that reads the rows right after is no proof of durability.
//
// Needs the variables of `scripts/cluster env`, root (SIGSTOP of a postgres process, `ss -K`),
// and the default single transaction-service instance (its pid file transaction-service-1).
#include <gtest/gtest.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "domain/ids.hpp"
#include "test/cluster/cluster_control.hpp"
#include "test/support/eventually.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// The process stays stopped (SIGSTOP) until release() says it died or the guard goes (SIGCONT),
// so a failed assertion never leaves the cluster's primary without its walsender.
class StoppedProcess {
 public:
  explicit StoppedProcess(int pid) : pid_(pid) {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  ~StoppedProcess() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  StoppedProcess(const StoppedProcess&) = delete;
  StoppedProcess& operator=(const StoppedProcess&) = delete;
  void release() { pid_ = 0; }  // it was killed: its pid may be reused

 private:
  int pid_;
};

// The walsender among a postmaster's children (its ps title says so), or -1 unless exactly one.
int walsender_of(int postmaster) {
  int found = -1, count = 0;
  for (int child : children_of(postmaster)) {
    if (cmdline_of(child).find("walsender") != std::string::npos) {
      found = child;
      ++count;
    }
  }
  return count == 1 ? found : -1;
}

std::string run(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof(buffer), pipe)) out += buffer;
    ::pclose(pipe);
  }
  return out;
}

// Cuts (`ss -K`) the established TCP connections of process `pid` to `port`, as a network blip
// would; the peers' backends live on. Returns how many were cut.
int cut_connections(int pid, int port) {
  const std::string to_port = "dport = :" + std::to_string(port);
  std::istringstream lines(run("ss -tnpH state established '( " + to_port + " )'"));
  const std::string owner = "pid=" + std::to_string(pid) + ",";
  std::string from_ports;
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(owner) == std::string::npos) continue;
    std::istringstream fields(line);
    std::string recv_q, send_q, local;
    fields >> recv_q >> send_q >> local;
    from_ports +=
        (count++ == 0 ? "sport = :" : " or sport = :") + local.substr(local.rfind(':') + 1);
  }
  if (count > 0) {
    run("ss -K -tnH state established '( " + to_port + " ) and ( " + from_ports + " )' >/dev/null");
  }
  return count;
}

// Backends of the ledger's database waiting for the synchronous standby to confirm their commit.
long waiting_for_standby(pqxx::connection& primary) {
  pqxx::nontransaction txn(primary);
  return txn
      .exec(
          "SELECT count(*) FROM pg_stat_activity"
          " WHERE wait_event = 'SyncRep' AND datname = current_database()")[0][0]
      .as<long>();
}

struct Transfer {
  std::string key;
  std::string body;
  std::map<int, int> statuses;  // every answer (0: none), in order of status
  int answer_before_kill = 0;   // the status of the attempt made before the primary died
  int final_status = 0;         // 200 or 409 once settled
  std::string final_body;
};

// Sends the transfer with its key until it is settled (200 or 409) or `give_up` passed; at least
// once. A retry with the key is what a client does after 503 or no answer.
void send_until_settled(const std::string& url, Transfer& t, Clock::time_point give_up,
                        std::chrono::milliseconds timeout) {
  HttpClient client(url, timeout);
  do {
    auto r = client.post("/transferMoney", t.body, {{"Idempotency-Key", t.key}});
    ++t.statuses[r.status];
    if (r.status == 200 || r.status == 409) {
      t.final_status = r.status;
      t.final_body = r.body;
      return;
    }
    std::this_thread::sleep_for(200ms);
  } while (Clock::now() < give_up);
}

// One thread per transfer; joined when the set goes, whatever happened (each is bounded).
class Clients {
 public:
  template <class Send>
  void start(std::vector<Transfer>& transfers, Send send) {
    for (auto& t : transfers) threads_.emplace_back([&t, send] { send(t); });
  }
  void join() {
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }
  ~Clients() { join(); }

 private:
  std::vector<std::thread> threads_;
};

std::vector<Transfer> transfers_between_pairs(const std::vector<std::string>& ids) {
  std::vector<Transfer> out;
  for (size_t i = 0; i + 1 < ids.size(); i += 2) {
    const std::string amount = "1." + std::to_string(10 + i);
    Transfer transfer;
    transfer.key = domain::new_uuid_v4();
    transfer.body = nlohmann::json{
        {"from_user_id", ids[i]},
        {"to_user_id", ids[i + 1]},
        {"amount_to_transfer",
         amount}}.dump();
    out.push_back(std::move(transfer));
  }
  return out;
}

// A keyed deposit retried with its key until 200: the service writes on the new primary again.
bool deposit_acknowledged(const std::string& url, const std::string& account,
                          std::chrono::seconds limit) {
  HttpClient client(url, 5000ms);
  const std::string key = domain::new_uuid_v4();
  const auto body = nlohmann::json{{"user_id", account}, {"amount", "0.01"}}.dump();
  return eventually(
      [&] {
        return client.post("/addMoney", body, {{"Idempotency-Key", key}}).status == 200;
      },
      limit, 200ms);
}

// Accounts whose balance in transaction-service's API differs from the database's, as
// "id: api X, database Y" (api "?" when it did not answer 200).
std::vector<std::string> balance_mismatches(const std::string& url, pqxx::connection& db,
                                            const std::vector<std::string>& ids) {
  HttpClient client(url, 3000ms);
  std::vector<std::string> out;
  for (const auto& id : ids) {
    auto r = client.get("/users/" + id + "/balance");
    const std::string api = r.status == 200 ? r.json().value("balance", "?") : "?";
    const std::string stored = db_balance(db, id);
    if (api != stored) out.push_back(id + ": api " + api + ", database " + stored);
  }
  return out;
}

// Each transfer acknowledged with 200 is on `db` exactly once: its two rows netting to zero and
// its key's stored outcome. Returns how many acknowledged transfers are missing.
int expect_acknowledged_present(pqxx::connection& db, const std::vector<Transfer>& transfers) {
  int missing = 0;
  for (const auto& t : transfers) {
    if (t.final_status != 200) continue;
    const auto transfer_id =
        nlohmann::json::parse(t.final_body).value("transfer_id", std::string("?"));
    pqxx::nontransaction txn(db);
    auto rows = txn.exec_params(
        "SELECT count(*), count(*) FILTER (WHERE kind = 'transfer_debit'),"
        " coalesce(sum(balance_change), 0)::text,"
        " (SELECT count(*) FROM idempotency_keys WHERE key = $2)"
        " FROM transactions WHERE transfer_id = $1::uuid",
        transfer_id, t.key);
    const long found = rows[0][0].as<long>();
    if (found == 0) {
      ++missing;
      ADD_FAILURE() << "transfer " << transfer_id << " (key " << t.key
                    << ") was answered 200 but is not on the new primary";
      continue;
    }
    EXPECT_EQ(found, 2) << transfer_id;
    EXPECT_EQ(rows[0][1].as<long>(), 1) << transfer_id;
    EXPECT_EQ(rows[0][2].as<std::string>(), "0.00") << transfer_id;
    EXPECT_EQ(rows[0][3].as<long>(), 1) << "stored outcomes of key " << t.key;
  }
  return missing;
}

class SyncCommitFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.configured())
        << "the CLUSTER_* variables are not set: run under scripts/test, or "
           "`eval \"$(./scripts/cluster env)\"` after ./scripts/cluster up";
    ASSERT_TRUE(cluster_.restore()) << "the cluster is not healthy before the test";
  }
  Cluster cluster_;
};

TEST_F(SyncCommitFailoverTest, TransfersAcknowledgedAfterACutConnectionSurvivePromotionOfStandby) {
  RestoreAtEnd restore{cluster_};
  constexpr int kClients = 8;
  const std::string tx = cluster_.tx_urls.front();
  const int service = read_pid(cluster_.pid_file("transaction-service-1"));
  ASSERT_GT(service, 0) << "no pid file for transaction-service-1";
  const int old_leader = cluster_.leader();
  ASSERT_GE(old_leader, 0) << "no Postgres leader before the test";
  const int primary_port = cluster_.postgres_port(old_leader);

  auto db = open_db(cluster_.tx_db);
  auto ids = funded_accounts(*db, tx, 2 * kClients);
  const auto probe = funded_accounts(*db, tx, 1).front();
  auto transfers = transfers_between_pairs(ids);

  // 1. Commits wait for the standby: its walsender is stopped until the node dies.
  const int walsender = walsender_of(cluster_.postmaster_pid(old_leader));
  ASSERT_GT(walsender, 0) << "no single walsender under pg" << old_leader + 1 << "'s postmaster";
  StoppedProcess paused(walsender);
  std::atomic<int> answered{0};
  Clients first_attempts;
  first_attempts.start(transfers, [&tx, &answered](Transfer& t) {
    send_until_settled(tx, t, Clock::now(), 10'000ms);  // one attempt
    ++answered;
  });

  // 2. Each time the service's commits wait, its connections to the primary are cut. The writer
  // has one lane: the first transfer commits alone, the others queue and form the next batch.
  const auto stalled = Clock::now();
  int cuts = 0, connections_cut = 0;
  while (answered < kClients && seconds_since(stalled) < 8 && cuts < 4) {
    if (waiting_for_standby(*db) == 0) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    std::this_thread::sleep_for(300ms);  // let the other transfers queue behind the commit
    connections_cut += cut_connections(service, primary_port);
    ++cuts;
    std::this_thread::sleep_for(1s);
  }
  // 3. Each first attempt answered or timed out (10 s).
  first_attempts.join();
  size_t acknowledged_before_kill = 0;
  for (auto& t : transfers) {
    t.answer_before_kill = t.statuses.begin()->first;
    if (t.final_status == 200) ++acknowledged_before_kill;
  }
  EXPECT_GT(connections_cut, 0) << "the service had no connection to the primary to cut";

  // 4. The primary node dies with its stopped walsender; Patroni promotes the standby.
  const auto killed = Clock::now();
  cluster_.kill_postgres_node(old_leader);
  paused.release();
  db.reset();
  int new_leader = -1;
  while (seconds_since(killed) < 45 && (new_leader = cluster_.leader()) < 0) {
    std::this_thread::sleep_for(200ms);
  }
  const double elected = seconds_since(killed);
  ASSERT_GE(new_leader, 0) << "no new leader 45 s after the kill";
  ASSERT_NE(new_leader, old_leader);
  EXPECT_TRUE(deposit_acknowledged(tx, probe, 60s)) << "no write acknowledged on the new primary";

  // Transfers without a definitive answer are retried with their key, as clients would.
  Clients retries;
  const auto give_up = Clock::now() + 60s;
  retries.start(transfers, [&tx, give_up](Transfer& t) {
    if (t.final_status == 0) send_until_settled(tx, t, give_up, 5000ms);
  });
  retries.join();

  // 5. What the clients were told is what the new primary holds, and the API shows it.
  auto check = open_db(cluster_.tx_db);
  std::map<int, int> first_answers;
  for (const auto& t : transfers) {
    EXPECT_TRUE(t.final_status == 200 || t.final_status == 409)
        << t.key << " never got a definitive answer";
    ++first_answers[t.answer_before_kill];
  }
  const int missing = expect_acknowledged_present(*check, transfers);
  const long acknowledged = std::count_if(transfers.begin(), transfers.end(),
                                          [](const Transfer& t) { return t.final_status == 200; });
  EXPECT_EQ(count_rows(*check,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids),
            acknowledged)
      << "transfers between the test's accounts on the new primary vs. transfers acknowledged";
  std::vector<std::string> mismatches;
  eventually([&] { return (mismatches = balance_mismatches(tx, *check, ids)).empty(); }, 15s,
             500ms);
  for (const auto& m : mismatches) ADD_FAILURE() << "balance shown by the API is not stored: " << m;
  auto all = ids;
  all.push_back(probe);
  for (const auto& violation : ledger_violations(*check, all)) ADD_FAILURE() << violation;

  std::string answers;
  for (const auto& [status, n] : first_answers) {
    answers += (answers.empty() ? "" : ", ") + std::to_string(status) + ": " + std::to_string(n);
  }
  std::printf(
      "[cluster-sync-commit] %d transfers waiting for the standby; %d cut(s) of %d connections; "
      "answers before the kill {%s}; pg%d promoted %.1f s after SIGKILL of pg%d; %zu acknowledged "
      "before the kill, %d acknowledged transfers missing on the new primary; %zu accounts whose "
      "API balance differs from the database\n",
      kClients, cuts, connections_cut, answers.c_str(), new_leader + 1, elected, old_leader + 1,
      acknowledged_before_kill, missing, mismatches.size());
}

}  // namespace
}  // namespace wallet::test
