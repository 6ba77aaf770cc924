// What the cluster tests share to reach and damage the replicated stack of scripts/cluster: its
// parts from the CLUSTER_* variables, the Patroni leader, SIGKILL of a node or a part, and
// `scripts/cluster up` to bring it back to full strength after a test, whatever happened in it.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "test/support/environment.hpp"

namespace wallet::test {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> split(const std::string& text);  // on commas, empty items dropped
int read_pid(const std::string& path);                    // 0 when unreadable
std::vector<int> children_of(int pid);                    // direct children, from /proc
std::string cmdline_of(int pid);                          // argv joined by spaces (ps title)
void sigkill(int pid);                                    // nothing for pid <= 0

struct Cluster {
  std::string state = env_or("CLUSTER_STATE", "");
  std::vector<std::string> tx_urls = split(env_or("CLUSTER_TRANSACTION_SERVICE_URLS", ""));
  std::vector<std::string> user_urls = split(env_or("CLUSTER_USER_SERVICE_URLS", ""));
  std::string tx_db = env_or("CLUSTER_TRANSACTION_DB_URL", "");
  std::string user_db = env_or("CLUSTER_USER_DB_URL", "");
  std::vector<std::string> patroni = split(env_or("CLUSTER_PATRONI_URLS", ""));
  std::vector<std::string> nats_monitors = split(env_or("CLUSTER_NATS_MONITOR_URLS", ""));
  std::string patroni_config = env_or("CLUSTER_PATRONI_CONFIG", "");

  bool configured() const;
  std::string pid_file(const std::string& name) const { return state + "/run/" + name + ".pid"; }
  // Postgres of Patroni node `index` (0-based): its port (CL_PG_BASE + index, as
  // scripts/lib/cluster.sh) and its postmaster's pid.
  int postgres_port(int index) const;
  int postmaster_pid(int index) const;
  // Index (0-based) of the Patroni node whose Postgres is the primary, or -1.
  int leader() const;
  // The whole Patroni node dies at once, as with a lost host: its Patroni, its postmaster and
  // every process of that Postgres.
  void kill_postgres_node(int index) const;
  void kill_part(const std::string& name) const;
  // scripts/cluster up: restarts whatever is not running and waits until all of it is healthy.
  bool restore() const;
};

// Brings the cluster back after a test, whatever happened in it.
struct RestoreAtEnd {
  const Cluster& cluster;
  ~RestoreAtEnd();
};

// A session on the primary through the multi-host URL, retried for up to ~30 s (a failover).
std::unique_ptr<pqxx::connection> open_db(const std::string& url);

// `count` new accounts, each funded with 500.00 by a keyed /addMoney through `url` (so the
// service has loaded them), retried with its key for up to 30 s until it is acknowledged.
std::vector<std::string> funded_accounts(pqxx::connection& db, const std::string& url, int count);

}  // namespace wallet::test
