// LedgerEventRelay: transaction-service's publisher of the `ledger-events` outbox
// (schema/transaction_service/002_ledger_events.sql). A detached CAF actor that reads the outbox
// through actors::LedgerEventOutbox (which owns the database session) and publishes with an
// idempotent Kafka producer (acks=all): it publishes pending rows in outbox order
// (key = user_id, so each account's events stay in commit order within their partition) and
// deletes a row only after its delivery report; while Kafka or Postgres are away it backs off
// (100 ms .. 5 s) and then drains the backlog by itself. At least once: a row delivered but not
// yet deleted when the process dies is published again with the same event_id. What it shares
// with user-service's OutboxRelay is in messaging/relay_runner.hpp.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "messaging/relay_options.hpp"

namespace wallet::messaging {

struct LedgerEventRelayOptions : RelayOptions {
  // 2000 rows a pass; the idle poll finds rows committed by another instance (this one is woken
  // after its own commits) four times a second.
  LedgerEventRelayOptions() : RelayOptions(2000, std::chrono::milliseconds(250)) {}

  std::string topic = "ledger-events";
  // At most one pass per linger unless the last one was full: bigger passes, far less overhead
  // per event (Postgres statements, Kafka requests); events wait at most this much longer.
  std::chrono::milliseconds linger{50};
};

class LedgerEventRelay {
 public:
  LedgerEventRelay(caf::actor_system& system, LedgerEventRelayOptions options);
  ~LedgerEventRelay();

  // Rows were (or may have been) committed: publish soon. Cheap, callable from any thread; wakes
  // that arrive during a pass are served by the next one.
  void wake();
  // One last bounded attempt to publish what is pending, then stops. Idempotent.
  void stop();

  bool healthy() const;        // Kafka answered a metadata probe recently
  int64_t pending() const;     // rows not yet acknowledged, as of the last count; -1 before it
  uint64_t published() const;  // events acknowledged by Kafka since start
  nlohmann::json status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
