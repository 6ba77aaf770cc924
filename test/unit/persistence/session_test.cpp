// The database session helper without a server: the settings it adds to a URL, how it classifies
// libpqxx errors (a read-only server after a failover is a connection failure), the one backoff,
// and that a session to an unreachable server reports a retryable failure instead of throwing.
#include "persistence/session.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

namespace wallet::persistence {
namespace {

using namespace std::chrono_literals;

FailureKind kind_of(const char* sqlstate) {
  return classify(pqxx::sql_error("refused", "SELECT 1", sqlstate)).kind;
}

TEST(SessionUrlTest, AddsTimeoutsAndKeepalivesUnlessGiven) {
  SessionOptions options;
  options.statement_timeout = 5000ms;
  EXPECT_EQ(session_url("postgresql://u:p@h:5432/db", options),
            "postgresql://u:p@h:5432/db?connect_timeout=3&keepalives=1&keepalives_idle=5"
            "&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=10000"
            "&options=-c%20statement_timeout%3D5000%20-c%20plan_cache_mode%3Dforce_generic_plan"
            "%20-c%20jit%3Doff");
  EXPECT_EQ(session_url("postgresql://h/db?connect_timeout=9&sslmode=disable", SessionOptions{}),
            "postgresql://h/db?connect_timeout=9&sslmode=disable&keepalives=1&keepalives_idle=5"
            "&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=10000"
            "&options=-c%20plan_cache_mode%3Dforce_generic_plan%20-c%20jit%3Doff");
  EXPECT_EQ(
      session_url("host=h dbname=db", options),
      "host=h dbname=db connect_timeout=3 keepalives=1 keepalives_idle=5"
      " keepalives_interval=2 keepalives_count=3 tcp_user_timeout=10000"
      " options='-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan -c jit=off'");
  // Options of the URL's own win (one `options` only), and the generic plans can be left out.
  // JIT is always off (short statements only; see session.cpp).
  options.generic_plans = false;
  EXPECT_EQ(session_url("host=h options='-c work_mem=8MB'", options),
            "host=h options='-c work_mem=8MB' connect_timeout=3 keepalives=1 keepalives_idle=5"
            " keepalives_interval=2 keepalives_count=3 tcp_user_timeout=10000");
  EXPECT_EQ(
      session_url("host=h", options),
      "host=h connect_timeout=3 keepalives=1 keepalives_idle=5 keepalives_interval=2"
      " keepalives_count=3 tcp_user_timeout=10000 options='-c statement_timeout=5000 -c jit=off'");
}

// The ledger-events relay's session reads its queue table by index whatever its statistics say.
TEST(SessionUrlTest, AQueueSessionPlansIndexScansWithoutMemoize) {
  SessionOptions options;
  options.queue_plans = true;
  EXPECT_EQ(session_url("host=h", options),
            "host=h connect_timeout=3 keepalives=1 keepalives_idle=5 keepalives_interval=2"
            " keepalives_count=3 tcp_user_timeout=10000 options='-c plan_cache_mode="
            "force_generic_plan -c jit=off -c enable_seqscan=off -c enable_memoize=off'");
}

TEST(ClassifyTest, ConnectionFailuresIncludeAReadOnlyServer) {
  EXPECT_EQ(classify(pqxx::broken_connection("gone")).kind, FailureKind::connection);
  EXPECT_EQ(classify(pqxx::in_doubt_error("unknown outcome")).kind, FailureKind::connection);
  EXPECT_EQ(kind_of("25006"), FailureKind::connection);  // read_only_sql_transaction
  EXPECT_EQ(kind_of("08006"), FailureKind::connection);
  EXPECT_EQ(kind_of("57P01"), FailureKind::connection);  // admin_shutdown
  EXPECT_EQ(kind_of("57P03"), FailureKind::connection);  // cannot_connect_now
}

TEST(ClassifyTest, TransientInvalidAndInternal) {
  EXPECT_EQ(kind_of("40001"), FailureKind::transient);  // serialization_failure
  EXPECT_EQ(kind_of("40P01"), FailureKind::transient);  // deadlock_detected
  EXPECT_EQ(kind_of("57014"), FailureKind::transient);  // statement_timeout
  EXPECT_EQ(kind_of("22007"), FailureKind::invalid_data);
  EXPECT_EQ(kind_of("22008"), FailureKind::invalid_data);
  EXPECT_EQ(kind_of("23505"), FailureKind::internal);  // unique_violation: the caller's to handle
  EXPECT_EQ(kind_of("42P01"), FailureKind::internal);  // undefined_table
  EXPECT_EQ(classify(std::runtime_error("not a database error")).kind, FailureKind::internal);
  const auto failure = classify(pqxx::sql_error("refused", "", "25006"));
  EXPECT_EQ(failure.sqlstate, "25006");
  EXPECT_TRUE(failure.retryable());
  EXPECT_EQ(failure.error().code, domain::ErrorCode::unavailable);
  // The client never sees the library's text.
  const auto internal = classify(pqxx::sql_error("secret detail", "", "42P01"));
  EXPECT_FALSE(internal.retryable());
  EXPECT_EQ(internal.error().code, domain::ErrorCode::internal);
  EXPECT_EQ(internal.error().message.find("secret"), std::string::npos);
}

TEST(BackoffTest, DoublesUpToTheMaximumAndResets) {
  Backoff backoff(100ms, 1000ms);
  EXPECT_EQ(backoff.next(), 100ms);
  EXPECT_EQ(backoff.next(), 200ms);
  EXPECT_EQ(backoff.next(), 400ms);
  EXPECT_EQ(backoff.next(), 800ms);
  EXPECT_EQ(backoff.next(), 1000ms);
  EXPECT_EQ(backoff.next(), 1000ms);
  backoff.reset();
  EXPECT_EQ(backoff.next(), 100ms);
}

TEST(SessionTest, AnUnreachableServerIsARetryableFailureNotAnException) {
  SessionOptions options;
  options.connect_timeout = 1s;
  Session session("postgresql://nobody@127.0.0.1:1/none", options);
  bool ran = false;
  auto result = session.run([&ran](pqxx::connection&) { ran = true; });
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(ran);
  EXPECT_EQ(result.failure().kind, FailureKind::connection);
  EXPECT_TRUE(result.failure().retryable());
  EXPECT_FALSE(session.connected());
  EXPECT_EQ(session.generation(), 0u);
  EXPECT_FALSE(Session::ping("postgresql://nobody@127.0.0.1:1/none", options));
}

}  // namespace
}  // namespace wallet::persistence
