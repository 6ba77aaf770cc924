// The configuration of each service: one struct per service, each default written once (the member
// initializers below), loaded once from the environment by load_config(). The configuration table
// of docs/configuration.md lists exactly these variables with these defaults;
// test/unit/services/config_table_test holds the two together. `visit` names each field's
// environment variable: the loader, the table check and anything else that needs the list walk it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/contract.hpp"

namespace wallet::services {

// What both services read.
struct CommonConfig {
  std::string http_host = "127.0.0.1";
  int64_t http_threads = 2;
  int64_t db_pool_size = 4;
  int64_t db_queue_limit = 10'000;
  // The pool's statement timeout: a read or lookup stalled on a lock is cancelled (503) instead
  // of holding a pool thread, and every request waiting behind it, for as long as the lock.
  int64_t db_statement_timeout_ms = 5'000;
  std::string kafka_brokers = "127.0.0.1:9092";
  std::string kafka_topic = domain::kUserCreatedTopic;
  std::string nats_url = "nats://127.0.0.1:4222";
  int64_t openapi_check = 0;  // 1: exit at start-up if the routes and the OpenAPI document differ
  int64_t actor_threads = 2;
  // CAF's scheduling policy: "sharing" (one queue, an idle worker sleeps on its condition
  // variable until work is enqueued) or "stealing" (CAF's default: a queue per worker, idle
  // workers poll and steal). See services/common/startup.cpp.
  std::string actor_scheduler = "sharing";
  // "stealing" only: polls (50 us apart) an idle CAF worker makes before it sleeps until work is
  // enqueued; CAF's default is 500.
  int64_t actor_moderate_polls = 20;
  std::string schema_dir;  // empty: the source tree's schema/
  std::string log_level = "info";
  // Per-client rate limits (SPEC.md section 9), e.g. "money=100/200,reads=1000/2000,admin=20/40":
  // requests per second / burst per client and route class. Empty: no limit (the limiter is off).
  std::string rate_limits;
  // Most clients whose buckets are kept (each ~200 bytes); beyond, the least recently seen is
  // forgotten.
  int64_t rate_limit_clients = 100'000;
};

struct UserServiceConfig : CommonConfig {
  int64_t http_port = 8080;
  std::string database_url = "postgresql://wallet:wallet@127.0.0.1:55432/user_service";
  int64_t kafka_message_timeout_ms = 10'000;
  int64_t outbox_batch = 500;
  int64_t nats_request_timeout_ms = 2'000;
  int64_t nats_request_threads = 8;
};

struct TransactionServiceConfig : CommonConfig {
  int64_t http_port = 8081;
  std::string database_url = "postgresql://wallet:wallet@127.0.0.1:55432/transaction_service";
  std::string kafka_dlq_topic;  // empty: <kafka_topic>.dlq
  std::string kafka_group_id = domain::kUserCreatedConsumerGroup;
  std::string admin_token;      // empty: the admin API refuses every request
  std::string auth_jwt_secret;  // empty: no JWT required
  std::string nats_balance_subject = domain::kBalanceSubject;
  int64_t actor_idle_ms = 60'000;
  int64_t ledger_max_batch = 512;
  int64_t ledger_write_lanes = 1;
  int64_t max_in_flight = 20'000;
  int64_t request_deadline_ms = 5'000;
  int64_t idempotency_ttl = 24 * 3600;  // seconds
  int64_t ledger_statement_timeout_ms = 5'000;
  std::string ledger_events = "on";  // on or off
  std::string ledger_events_topic = "ledger-events";
  int64_t ledger_events_linger_ms = 50;
  // Ownership (SPEC.md section 7): "all" takes every partition at start and fences every commit;
  // "shared" takes none and commits unfenced (test instances beside the stack's); "kafka" owns the
  // partitions a consumer group assigns it, among every instance of the group.
  std::string partition_ownership = "all";
  int64_t ledger_partitions = 12;  // domain::kDefaultPartitions; fixed per cluster
  std::string instance_id;         // empty: "<hostname>:<HTTP_PORT>"
  std::string ownership_topic = "ledger-partitions";
  std::string ownership_group = "wallet-ledger-owners";
  int64_t ownership_session_timeout_ms = 6'000;
  int64_t ownership_replication = 1;
  std::string nats_ledger_subject = "wallet.ledger";  // requests for partition p: <this>.p<p>
  int64_t forward_timeout_ms = 15'000;
  int64_t forward_threads = 64;
  std::string currencies = "USD:2,EUR:2,GBP:2,JPY:0,KWD:3";  // code:exponent, comma-separated
  std::string default_currency = "USD";

  std::string dlq_topic() const {
    return kafka_dlq_topic.empty() ? kafka_topic + ".dlq" : kafka_dlq_topic;
  }
};

template <class F>
void visit_common(CommonConfig& c, F&& f) {
  f("HTTP_HOST", c.http_host);
  f("HTTP_THREADS", c.http_threads);
  f("DB_POOL_SIZE", c.db_pool_size);
  f("DB_QUEUE_LIMIT", c.db_queue_limit);
  f("DB_STATEMENT_TIMEOUT_MS", c.db_statement_timeout_ms);
  f("KAFKA_BROKERS", c.kafka_brokers);
  f("KAFKA_TOPIC", c.kafka_topic);
  f("NATS_URL", c.nats_url);
  f("OPENAPI_CHECK", c.openapi_check);
  f("ACTOR_THREADS", c.actor_threads);
  f("ACTOR_MODERATE_POLLS", c.actor_moderate_polls);
  f("ACTOR_SCHEDULER", c.actor_scheduler);
  f("SCHEMA_DIR", c.schema_dir);
  f("LOG_LEVEL", c.log_level);
  f("RATE_LIMITS", c.rate_limits);
  f("RATE_LIMIT_CLIENTS", c.rate_limit_clients);
}

template <class F>
void visit(UserServiceConfig& c, F&& f) {
  visit_common(c, f);
  f("HTTP_PORT", c.http_port);
  f("DATABASE_URL", c.database_url);
  f("KAFKA_MESSAGE_TIMEOUT_MS", c.kafka_message_timeout_ms);
  f("OUTBOX_BATCH", c.outbox_batch);
  f("NATS_REQUEST_TIMEOUT_MS", c.nats_request_timeout_ms);
  f("NATS_REQUEST_THREADS", c.nats_request_threads);
}

template <class F>
void visit(TransactionServiceConfig& c, F&& f) {
  visit_common(c, f);
  f("HTTP_PORT", c.http_port);
  f("DATABASE_URL", c.database_url);
  f("KAFKA_DLQ_TOPIC", c.kafka_dlq_topic);
  f("KAFKA_GROUP_ID", c.kafka_group_id);
  f("ADMIN_TOKEN", c.admin_token);
  f("AUTH_JWT_SECRET", c.auth_jwt_secret);
  f("NATS_BALANCE_SUBJECT", c.nats_balance_subject);
  f("ACTOR_IDLE_MS", c.actor_idle_ms);
  f("LEDGER_MAX_BATCH", c.ledger_max_batch);
  f("LEDGER_WRITE_LANES", c.ledger_write_lanes);
  f("MAX_IN_FLIGHT", c.max_in_flight);
  f("REQUEST_DEADLINE_MS", c.request_deadline_ms);
  f("IDEMPOTENCY_TTL", c.idempotency_ttl);
  f("LEDGER_STATEMENT_TIMEOUT_MS", c.ledger_statement_timeout_ms);
  f("LEDGER_EVENTS", c.ledger_events);
  f("LEDGER_EVENTS_TOPIC", c.ledger_events_topic);
  f("LEDGER_EVENTS_LINGER_MS", c.ledger_events_linger_ms);
  f("PARTITION_OWNERSHIP", c.partition_ownership);
  f("LEDGER_PARTITIONS", c.ledger_partitions);
  f("INSTANCE_ID", c.instance_id);
  f("OWNERSHIP_TOPIC", c.ownership_topic);
  f("OWNERSHIP_GROUP", c.ownership_group);
  f("OWNERSHIP_SESSION_TIMEOUT_MS", c.ownership_session_timeout_ms);
  f("OWNERSHIP_REPLICATION", c.ownership_replication);
  f("NATS_LEDGER_SUBJECT", c.nats_ledger_subject);
  f("FORWARD_TIMEOUT_MS", c.forward_timeout_ms);
  f("FORWARD_THREADS", c.forward_threads);
  f("CURRENCIES", c.currencies);
  f("DEFAULT_CURRENCY", c.default_currency);
}

// Reads one variable into `field` when it is set and not empty. A value that does not parse
// (an integer field given "12x") leaves the default and adds a line to `problems`.
void read_env(const char* name, std::string& field, std::vector<std::string>& problems);
void read_env(const char* name, int64_t& field, std::vector<std::string>& problems);

// The default configuration overridden by the environment. `problems` lists what was ignored;
// the caller logs it (logging is configured from the result).
template <class Config>
Config load_config(std::vector<std::string>& problems) {
  Config config;
  visit(config, [&problems](const char* name, auto& field) { read_env(name, field, problems); });
  return config;
}

}  // namespace wallet::services
