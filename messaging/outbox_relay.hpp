// OutboxRelay: user-service's publisher of the transactional outbox. A detached CAF actor that
// reads the outbox through users::Outbox (which owns the database sessions) and publishes with an
// idempotent Kafka producer: it sends pending rows in id order and marks a row sent only after its
// delivery report, backing off (100 ms .. 5 s) while Kafka or Postgres are away and draining the
// backlog by itself once they are back. It is woken by the outbox's NOTIFY (any instance's
// commits), and polls at idle_poll for rows left behind.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace wallet::messaging {

struct OutboxRelayOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string database_url;
  int batch_size = 500;
  // Looks for pending rows this often even without a wake(): rows left by a crashed instance or
  // committed while this one was in back-off.
  std::chrono::milliseconds idle_poll{1000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  int message_timeout_ms = 10000;  // a delivery fails (and is retried) after this long
};

class OutboxRelay {
 public:
  OutboxRelay(caf::actor_system& system, OutboxRelayOptions options);
  ~OutboxRelay();

  // Publish soon (the NOTIFY listener does this on each commit). Cheap, callable from any thread.
  void wake();
  // One last bounded attempt to publish what is pending, then stops. Idempotent.
  void stop();

  bool healthy() const;     // Kafka answered a metadata probe recently
  int64_t pending() const;  // rows not yet acknowledged, as of the last cycle; -1 before the first
  nlohmann::json status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
