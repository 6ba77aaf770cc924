// Kafka plumbing shared by the bridges: checked client configuration, broker reachability (fed by
// librdkafka's events and periodic metadata probes) and delivery-report bookkeeping.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"

namespace wallet::messaging {

using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

// What every client of ours sets: brokers, client id, and short reconnect backoffs so that a
// restarted broker is found again within about a second (librdkafka's default backs off to 10 s).
KafkaSettings base_kafka_settings(const std::string& brokers, const std::string& client_id);

// A global configuration with every setting checked; the error carries librdkafka's text.
domain::Result<std::shared_ptr<RdKafka::Conf>> make_kafka_conf(const KafkaSettings& settings);

// Whether the brokers answered recently. librdkafka reports ALL_BROKERS_DOWN as an event but never
// says when they come back, so success is only ever learned from a metadata probe. Thread-safe:
// events arrive on librdkafka's threads, probes run on the bridge's own thread.
class BrokerHealth : public RdKafka::EventCb {
 public:
  explicit BrokerHealth(std::string client) : client_(std::move(client)) {}

  void event_cb(RdKafka::Event& event) override;

  // Asks for broker metadata (blocking up to timeout_ms) when the last probe is older than `every`.
  void probe(RdKafka::Handle& handle, std::chrono::milliseconds every, int timeout_ms);
  bool healthy(std::chrono::milliseconds within) const;
  // Milliseconds since the brokers last answered; -1 if they never did.
  int64_t last_contact_ms() const;

 private:
  bool should_log(int code);

  const std::string client_;
  std::atomic<int64_t> last_ok_ns_{0};
  std::atomic<int64_t> last_probe_ns_{0};
  std::atomic<bool> all_down_{false};
  std::mutex log_mutex_;
  std::map<int, int64_t> last_logged_ns_;  // per error code: librdkafka repeats them per retry
};

// Delivery reports of one batch, keyed by the opaque id each message was produced with. Reports
// are served by poll()/flush() on the producing thread, the only thread that uses this object.
class DeliveryTracker : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override;

  void expect(uint64_t id) { outcomes_[id] = kPending; }
  void clear() { outcomes_.clear(); }
  size_t outstanding() const;
  bool delivered(uint64_t id) const;
  // librdkafka's text for a failed delivery, or empty.
  const std::string& last_error() const { return last_error_; }

 private:
  static constexpr int kPending = -1;
  std::map<uint64_t, int> outcomes_;  // id -> kPending or an RdKafka::ErrorCode
  std::string last_error_;
};

// A producer with these settings that reports librdkafka's events to `health` and its deliveries
// to `reports` (both must outlive it); null, with `error` saying why, when it cannot be created.
std::unique_ptr<RdKafka::Producer> make_producer(const KafkaSettings& settings,
                                                 BrokerHealth& health, DeliveryTracker& reports,
                                                 std::string& error);

// Opaque ids travel through librdkafka as pointers.
inline void* as_opaque(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }

}  // namespace wallet::messaging
