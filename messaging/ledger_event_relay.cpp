#include "messaging/ledger_event_relay.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "actors/ledger_event_outbox.hpp"
#include "messaging/detached_bridge.hpp"
#include "messaging/kafka_support.hpp"
#include "messaging/ledger_event.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kProbeEvery = 2000ms;
constexpr int kProbeTimeoutMs = 500;
constexpr auto kHealthyWithin = 6000ms;
constexpr auto kFinalFlush = 3000ms;
constexpr auto kCountEvery = 1000ms;
constexpr int64_t kCountCap = 1'000'000;

using CycleResult = PassResult;

}  // namespace

struct LedgerEventRelay::Impl {
  Impl(caf::actor_system& sys, LedgerEventRelayOptions opts)
      : system(sys), options(std::move(opts)), outbox(options.database_url) {}

  bool create_producer();
  void run(caf::blocking_actor* self);
  CycleResult cycle(std::chrono::milliseconds report_wait);
  bool count_pending(bool now);
  void note(const char* new_state, const std::string& error = "");

  caf::actor_system& system;
  const LedgerEventRelayOptions options;
  BrokerHealth health{"ledger-event-relay"};
  DeliveryTracker reports;
  std::unique_ptr<RdKafka::Producer> producer;
  actors::LedgerEventOutbox outbox;  // actor thread only
  Clock::time_point counted_at{};
  DetachedBridge bridge;
  std::atomic<bool> stopped{false};
  // Set by wake(), cleared when a pass starts: at most one wake message waits in the mailbox, so
  // a commit costs the relay's thread no wake-up while one is already due.
  std::atomic<bool> wake_due{false};

  std::atomic<int64_t> pending{-1};
  std::atomic<uint64_t> published{0}, failed_deliveries{0}, cycles{0};
  mutable std::mutex mutex;  // guards state and last_error
  std::string state = "starting";
  std::string last_error;
};

void LedgerEventRelay::Impl::note(const char* new_state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex);
  state = new_state;
  if (!error.empty()) last_error = error;
}

bool LedgerEventRelay::Impl::create_producer() {
  auto settings = base_kafka_settings(options.brokers, "transaction-service.ledger-events");
  settings.insert(settings.end(),
                  {{"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"max.in.flight.requests.per.connection", "5"},
                   {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
                   // A pass produces its rows at once: batch them, and compress the batches
                   // (the broker's CPU per event is most of what the stream costs; see docs/).
                   {"linger.ms", "20"},
                   {"compression.type", "lz4"}});
  auto conf = make_kafka_conf(settings);
  std::string error;
  if (!conf) {
    error = conf.error().message;
  } else if ((*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&health), error) ==
                 RdKafka::Conf::CONF_OK &&
             (*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&reports), error) ==
                 RdKafka::Conf::CONF_OK) {
    producer.reset(RdKafka::Producer::create(conf->get(), error));
  }
  if (!producer) spdlog::critical("event=ledger_events_producer_create_failed cause=\"{}\"", error);
  return producer != nullptr;
}

// False when the count failed (the database is away).
bool LedgerEventRelay::Impl::count_pending(bool now) {
  if (!now && Clock::now() - counted_at < kCountEvery) return true;
  auto counted = outbox.count(kCountCap);
  if (!counted) return false;
  pending = *counted;
  counted_at = Clock::now();
  return true;
}

// One pass: publish up to batch_size pending rows in id order, wait for their delivery reports,
// delete exactly the delivered rows. The idempotent producer keeps each partition's messages in
// produce order without gaps, so a row that failed was not overtaken by a later one of its key;
// rows not delivered stay, and the next pass starts again from the first of them.
CycleResult LedgerEventRelay::Impl::cycle(std::chrono::milliseconds report_wait) {
  ++cycles;
  if (!producer && !create_producer()) {
    note("backoff", "kafka: the producer could not be created");
    return {0, 0, false};
  }
  health.probe(*producer, kProbeEvery, kProbeTimeoutMs);
  // Only one relay per outbox publishes: two would interleave one account's events.
  auto pass = outbox.next(options.batch_size);
  if (!pass || (!pass->leading && !count_pending(false))) {
    note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) {
    note("standby");
    CycleResult standby;
    standby.standby = true;
    return standby;
  }
  const auto& rows = pass->rows;
  if (rows.empty()) {
    pending = 0;
    note("running");
    return {};
  }

  std::string fatal;
  if (producer->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
    // An idempotent producer can fail for good (e.g. a sequence gap it cannot repair): start over.
    spdlog::error("event=ledger_events_producer_fatal cause=\"{}\"", fatal);
    producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer.reset();
    if (!create_producer()) return {rows.size(), 0, false};
  }

  reports.clear();
  const auto deadline = Clock::now() + report_wait;
  size_t queued = 0;
  std::string produce_error;
  std::string value;
  value.reserve(512);
  for (const auto& row : rows) {
    encode_ledger_event(row, value);
    RdKafka::ErrorCode code;
    do {
      code = producer->produce(options.topic, RdKafka::Topic::PARTITION_UA,
                               RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                               value.size(), row.user_id.data(), row.user_id.size(), 0,
                               as_opaque(static_cast<uint64_t>(row.id)));
      if (code == RdKafka::ERR__QUEUE_FULL) producer->poll(50);
    } while (code == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline);
    if (code != RdKafka::ERR_NO_ERROR) {
      // Nothing after a row that could not be queued: later rows of its key must not pass it.
      produce_error = RdKafka::err2str(code);
      break;
    }
    reports.expect(static_cast<uint64_t>(row.id));
    ++queued;
  }
  while (reports.outstanding() > 0 && Clock::now() < deadline) {
    producer->poll(100);
    health.probe(*producer, kProbeEvery, kProbeTimeoutMs);
  }

  std::vector<int64_t> sent;
  sent.reserve(queued);
  for (size_t i = 0; i < queued; ++i) {
    if (reports.delivered(static_cast<uint64_t>(rows[i].id))) sent.push_back(rows[i].id);
  }
  const size_t unsent = queued - sent.size();
  published += sent.size();
  failed_deliveries += unsent;
  std::string error =
      !produce_error.empty() ? produce_error
      : unsent > 0 ? (reports.outstanding() ? "no delivery report in time" : reports.last_error())
                   : "";
  if (!outbox.remove(sent) || !count_pending(!error.empty())) {
    // Delivered but not deleted: published once more later, with the same event_id. At least
    // once is the contract; consumers deduplicate.
    spdlog::warn("event=ledger_events_delete_failed delivered={}", sent.size());
    note("backoff", "database: " + outbox.last_cause());
    return {rows.size(), sent.size(), false};
  }
  if (!error.empty()) {
    spdlog::warn("event=ledger_events_publish_failed rows={} delivered={} cause=\"{}\"",
                 rows.size(), sent.size(), error);
    note("backoff", "kafka: " + error);
    return {rows.size(), sent.size(), false};
  }
  note("running");
  return {rows.size(), sent.size(), true};
}

void LedgerEventRelay::Impl::run(caf::blocking_actor* self) {
  note("running");
  const auto report_wait = std::chrono::milliseconds(options.message_timeout_ms + 2000);
  RelayLoopOptions loop;
  loop.name = "ledger_events_relay";
  loop.batch_size = static_cast<size_t>(options.batch_size);
  loop.idle_poll = options.idle_poll;
  loop.linger = options.linger;
  loop.min_backoff = options.min_backoff;
  loop.max_backoff = options.max_backoff;
  loop.standby_retry = std::max(options.idle_poll, std::chrono::milliseconds(1000));
  run_relay_loop(self, loop, [this, report_wait] {
    wake_due.store(false);  // rows committed from here on are seen by this pass or wake the next
    return cycle(report_wait);
  });
  note("stopping");
  const auto last = cycle(kFinalFlush);
  // Whatever is still queued stays in the outbox and is published after the restart.
  if (producer) {
    producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer->flush(500);
  }
  note("stopped");
  spdlog::info("event=ledger_events_relay_stopped final_rows={} final_delivered={} pending={}",
               last.rows, last.delivered, pending.load());
}

LedgerEventRelay::LedgerEventRelay(caf::actor_system& system, LedgerEventRelayOptions options)
    : impl_(std::make_unique<Impl>(system, std::move(options))) {
  if (!impl_->create_producer()) {
    impl_->note("failed", "the Kafka producer could not be created");
    impl_->stopped = true;
    return;
  }
  Impl* impl = impl_.get();
  impl_->bridge.start(
      system, "ledger_events_relay", [impl](caf::blocking_actor* self) { impl->run(self); },
      [impl](const std::string& cause) { impl->note("failed", cause); });
}

LedgerEventRelay::~LedgerEventRelay() { stop(); }

void LedgerEventRelay::wake() {
  if (impl_->stopped.load(std::memory_order_relaxed) || impl_->wake_due.exchange(true)) return;
  impl_->bridge.wake();
}

void LedgerEventRelay::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->bridge.stop();
}

bool LedgerEventRelay::healthy() const {
  return !impl_->stopped && impl_->health.healthy(kHealthyWithin);
}

int64_t LedgerEventRelay::pending() const { return impl_->pending.load(); }

uint64_t LedgerEventRelay::published() const { return impl_->published.load(); }

nlohmann::json LedgerEventRelay::status() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {{"state", impl_->state},
          {"topic", impl_->options.topic},
          {"pending", impl_->pending.load()},
          {"broker_reachable", impl_->health.healthy(kHealthyWithin)},
          {"last_broker_contact_ms", impl_->health.last_contact_ms()},
          {"last_error", impl_->last_error},
          {"counters",
           {{"published", impl_->published.load()},
            {"failed_deliveries", impl_->failed_deliveries.load()},
            {"cycles", impl_->cycles.load()}}}};
}

}  // namespace wallet::messaging
