// OutboxPublisher: what both outbox relays share (user-service's OutboxRelay, transaction-service's
// LedgerEventRelay): an idempotent Kafka producer (acks=all) created again after a fatal error,
// the broker health it probes, one batch produced in order and awaited until every delivery
// report came or the wait ended, the counters, and the relay's state for /admin. Each relay keeps
// what is its own: which rows a pass reads, how a row becomes a message, and how the delivered
// rows are settled in its database. Used by the relay's actor thread only, but status() and
// healthy(), which any thread may call.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messaging/kafka_support.hpp"

namespace wallet::messaging {

struct OutboxPublisherOptions {
  std::string name;         // the log's event prefix: <name>_producer_fatal, ...
  std::string client_id;    // Kafka client.id
  std::string health_name;  // the broker health's name in the log
  std::string brokers;
  int message_timeout_ms = 10000;  // a delivery fails (and is retried) after this long
  // Producer settings beyond the idempotent defaults (linger.ms, compression.type, ...).
  std::vector<std::pair<std::string, std::string>> tuning;
};

// One message of a batch; `id` is its outbox row, reported back in OutboxDelivery (several
// messages may share one: the rows of one ledger statement's entry).
struct OutboxMessage {
  std::string_view topic, key, value;
  int64_t id = 0;
};

// What a batch came to: the ids of the messages delivered, of those queued but not delivered
// (an id once per message, in batch order; a message never queued is in neither), and why not.
struct OutboxDelivery {
  std::vector<int64_t> sent, unsent;
  std::string error;  // empty: every message of the batch was delivered
};

// The ids every message of which was delivered, ascending, once each: an outbox entry that
// several messages share is deleted only when all of them reached Kafka. `batch` holds the id of
// every message of the batch (once per message), `sent` those delivered.
std::vector<int64_t> wholly_delivered(const std::vector<int64_t>& batch,
                                      const std::vector<int64_t>& sent);

class OutboxPublisher {
 public:
  explicit OutboxPublisher(OutboxPublisherOptions options);

  // The producer exists (created now if needed); false, noted as back-off, when it cannot be.
  bool ready();
  // Asks the brokers for metadata when the last probe is old (the health's source).
  void probe();
  // A pass starts: counts it, and is ready() and probe()s; false: the pass backs off at once.
  bool begin_pass();
  // Produces `count` messages in order (`message(i, scratch)` gives the i-th; `scratch` may hold
  // its bytes until the next call) and waits up to `report_wait` for their reports. A message
  // that cannot be queued ends the batch: later rows of its key must not pass it. nullopt: the
  // producer had failed for good and could not be created again (nothing was produced).
  std::optional<OutboxDelivery> publish(
      size_t count, const std::function<OutboxMessage(size_t, std::string&)>& message,
      std::chrono::milliseconds report_wait);
  // At stop: whatever is still queued is dropped (it stays pending in the outbox).
  void close();

  const std::string& name() const { return options_.name; }
  void note(const char* state, const std::string& error = "");
  void set_pending(int64_t rows) { pending_ = rows; }
  int64_t pending() const { return pending_.load(); }
  uint64_t published() const { return published_.load(); }
  bool healthy() const;
  // state, pending, broker_reachable, last_broker_contact_ms, last_error and counters.
  nlohmann::json status() const;

 private:
  bool create_producer();
  void count_cycle() { ++cycles_; }

  const OutboxPublisherOptions options_;
  BrokerHealth health_;
  DeliveryTracker reports_;
  uint64_t batches_ = 0;  // numbers each publish() call's delivery reports
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<int64_t> pending_{-1};
  std::atomic<uint64_t> published_{0}, failed_deliveries_{0}, cycles_{0};
  mutable std::mutex mutex_;  // guards state_ and last_error_
  std::string state_ = "starting";
  std::string last_error_;
};

}  // namespace wallet::messaging
