// OutboxRelay: user-service's publisher of the transactional outbox. A detached CAF actor that
// reads the outbox through users::Outbox (which owns the database sessions) and publishes with an
// idempotent Kafka producer: it sends pending rows in id order and marks a row sent only after its
// delivery report, backing off (100 ms .. 5 s) while Kafka or Postgres are away and draining the
// backlog by itself once they are back. It is woken by the outbox's NOTIFY (any instance's
// commits), and polls at idle_poll for rows left behind. What it shares with transaction-service's
// LedgerEventRelay is in messaging/relay_runner.hpp.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>

#include "messaging/relay_options.hpp"

namespace wallet::messaging {

struct OutboxRelayOptions : RelayOptions {
  // 500 rows a pass; a poll a second besides the NOTIFY wakes.
  OutboxRelayOptions() : RelayOptions(500, std::chrono::milliseconds(1000)) {}
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
