// The two client-side pieces the failover tests rely on, checked directly against the cluster:
// a session on a server that is not (or no longer) the primary fails with an error that
// persistence::is_connection_failure classifies as a connection failure (so the connection is
// dropped and reopened through the multi-host URL), while ordinary SQL errors are not; and a NATS
// connection given several comma-separated servers reaches one of them when the first is dead.
#include "persistence/connection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>
#include <thread>

#include "domain/ids.hpp"
#include "messaging/nats_support.hpp"
#include "test/support/environment.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// A URL of the standby alone: the node whose Postgres is in recovery.
std::string standby_url() {
  const int base = std::atoi(env_or("CL_PG_BASE", "15432").c_str());
  for (int i = 0; i < 2; ++i) {
    const std::string url = "postgresql://wallet:wallet@127.0.0.1:" + std::to_string(base + i) +
                            "/transaction_service?connect_timeout=2";
    try {
      pqxx::connection conn(url);
      pqxx::nontransaction txn(conn);
      if (txn.exec("SELECT pg_is_in_recovery()")[0][0].as<bool>()) return url;
    } catch (const std::exception&) {
    }
  }
  return "";
}

std::exception_ptr failure_of(pqxx::connection& conn, const std::string& sql) {
  try {
    pqxx::nontransaction txn(conn);
    txn.exec(sql);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

bool classified_as_connection_failure(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return persistence::is_connection_failure(e);
  }
}

TEST(ClusterConnectionTest, WriteOnTheStandbyIsAConnectionFailureButOrdinaryErrorsAreNot) {
  const std::string standby = standby_url();
  ASSERT_FALSE(standby.empty()) << "no standby found on the cluster's Postgres ports";
  pqxx::connection on_standby(standby);
  auto read_only = failure_of(on_standby, "CREATE TEMP TABLE t (x int)");
  ASSERT_TRUE(read_only) << "a write on the standby succeeded";
  EXPECT_TRUE(classified_as_connection_failure(read_only))
      << "25006 (read-only transaction) must make the caller reconnect";

  // Negative controls on the primary: errors of the statement itself keep the connection.
  pqxx::connection primary(env_or("CLUSTER_TRANSACTION_DB_URL", ""));
  auto syntax = failure_of(primary, "SELEC 1");
  ASSERT_TRUE(syntax);
  EXPECT_FALSE(classified_as_connection_failure(syntax));
  auto division = failure_of(primary, "SELECT 1 / 0");
  ASSERT_TRUE(division);
  EXPECT_FALSE(classified_as_connection_failure(division));

  // A backend terminated by an administrator (as Patroni does when it demotes a primary).
  pqxx::connection victim(env_or("CLUSTER_TRANSACTION_DB_URL", ""));
  const int pid = victim.backendpid();
  pqxx::nontransaction(primary).exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  auto terminated = failure_of(victim, "SELECT 1");
  ASSERT_TRUE(terminated);
  EXPECT_TRUE(classified_as_connection_failure(terminated));
}

TEST(ClusterConnectionTest, NatsConnectionWithSeveralServersSkipsADeadOne) {
  // Port 1 refuses connections; the cluster's servers follow.
  messaging::NatsConnection conn("nats://127.0.0.1:1," + env_or("CLUSTER_NATS_URL", ""),
                                 "cluster-connection-test");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!conn.connected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(conn.connected()) << "state " << conn.state();

  // Negative control: only dead servers never connect.
  messaging::NatsConnection dead("nats://127.0.0.1:1,nats://127.0.0.1:2", "cluster-dead-test");
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(dead.connected());
}

}  // namespace
}  // namespace wallet::test
