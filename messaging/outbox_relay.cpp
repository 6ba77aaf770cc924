#include "messaging/outbox_relay.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

#include "messaging/detached_bridge.hpp"
#include "messaging/kafka_support.hpp"
#include "users/outbox.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kProbeEvery = 2000ms;
constexpr int kProbeTimeoutMs = 500;
constexpr auto kHealthyWithin = 6000ms;
constexpr auto kFinalFlush = 3000ms;

using CycleResult = PassResult;

}  // namespace

struct OutboxRelay::Impl {
  Impl(caf::actor_system& sys, OutboxRelayOptions opts)
      : system(sys), options(std::move(opts)), outbox(options.database_url) {}

  bool create_producer();
  void run(caf::blocking_actor* self);
  CycleResult cycle(std::chrono::milliseconds report_wait);
  void listen_loop();
  void note(const char* new_state, const std::string& error = "");

  caf::actor_system& system;
  const OutboxRelayOptions options;
  BrokerHealth health{"outbox-relay"};
  DeliveryTracker reports;
  std::unique_ptr<RdKafka::Producer> producer;
  users::Outbox outbox;  // next/settle on the actor thread, await_commit on the listener thread
  DetachedBridge bridge;
  std::thread listener;
  std::atomic<bool> stopped{false};

  std::atomic<int64_t> pending{-1};
  std::atomic<uint64_t> published{0}, failed_deliveries{0}, cycles{0};
  mutable std::mutex mutex;  // guards state and last_error
  std::string state = "starting";
  std::string last_error;
};

void OutboxRelay::Impl::note(const char* new_state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex);
  state = new_state;
  if (!error.empty()) last_error = error;
}

bool OutboxRelay::Impl::create_producer() {
  auto settings = base_kafka_settings(options.brokers, "user-service.outbox-relay");
  settings.insert(settings.end(),
                  {{"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"max.in.flight.requests.per.connection", "5"},
                   {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
                   {"linger.ms", "0"}});  // rows are batched per pass already
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
  if (!producer) spdlog::critical("event=outbox_producer_create_failed cause=\"{}\"", error);
  return producer != nullptr;
}

// One pass: send up to batch_size pending rows in id order, wait for their delivery reports, mark
// exactly the delivered rows sent. Rows not delivered stay pending, so the next pass starts again
// from the first unsent row.
CycleResult OutboxRelay::Impl::cycle(std::chrono::milliseconds report_wait) {
  ++cycles;
  if (!producer && !create_producer()) {
    note("backoff", "kafka: the producer could not be created");
    return {0, 0, false};
  }
  health.probe(*producer, kProbeEvery, kProbeTimeoutMs);
  // Only one relay per outbox publishes: the others stand by until the leader's session ends.
  auto pass = outbox.next(options.batch_size);
  if (!pass) {
    note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) {
    pending = pass->pending;
    note("standby");
    CycleResult standby;
    standby.standby = true;
    return standby;
  }
  const auto& rows = pass->rows;
  if (rows.empty()) {
    pending = 0;
    return {};
  }

  std::string fatal;
  if (producer->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
    // An idempotent producer can fail for good (e.g. a sequence gap it cannot repair): start over.
    spdlog::error("event=outbox_producer_fatal cause=\"{}\"", fatal);
    producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer.reset();
    if (!create_producer()) return {rows.size(), 0, false};
  }

  reports.clear();
  const auto deadline = Clock::now() + report_wait;
  size_t queued = 0;
  std::string produce_error;
  for (const auto& row : rows) {
    RdKafka::ErrorCode code;
    do {
      code = producer->produce(
          row.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
          const_cast<char*>(row.payload.data()), row.payload.size(), row.key.data(), row.key.size(),
          0, as_opaque(static_cast<uint64_t>(row.id)));
      if (code == RdKafka::ERR__QUEUE_FULL) producer->poll(50);
    } while (code == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline);
    if (code != RdKafka::ERR_NO_ERROR) {
      // Nothing after a row that could not be queued: later rows of the same key must not pass it.
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

  std::vector<int64_t> sent, unsent;
  for (size_t i = 0; i < queued; ++i) {
    (reports.delivered(static_cast<uint64_t>(rows[i].id)) ? sent : unsent).push_back(rows[i].id);
  }
  published += sent.size();
  failed_deliveries += unsent.size();
  std::string error = !produce_error.empty() ? produce_error
                      : !unsent.empty()      ? (reports.outstanding() ? "no delivery report in time"
                                                                      : reports.last_error())
                                             : "";
  auto settled = outbox.settle(sent, unsent);
  if (!settled) {
    // Delivered but not marked: those rows are published once more later. At-least-once is the
    // contract; the consumer opens each account once however often it arrives.
    spdlog::warn("event=outbox_mark_failed delivered={}", sent.size());
    note("backoff", "database: " + outbox.last_cause());
    return {rows.size(), sent.size(), false};
  }
  pending = *settled;
  if (!error.empty()) {
    spdlog::warn("event=outbox_publish_failed rows={} delivered={} cause=\"{}\"", rows.size(),
                 sent.size(), error);
    note("backoff", "kafka: " + error);
    return {rows.size(), sent.size(), false};
  }
  spdlog::debug("event=outbox_published rows={}", sent.size());
  note("running");
  return {rows.size(), sent.size(), true};
}

void OutboxRelay::Impl::run(caf::blocking_actor* self) {
  note("running");
  const auto report_wait = std::chrono::milliseconds(options.message_timeout_ms + 2000);
  RelayLoopOptions loop;
  loop.name = "outbox_relay";
  loop.batch_size = static_cast<size_t>(options.batch_size);
  loop.idle_poll = options.idle_poll;
  loop.min_backoff = options.min_backoff;
  loop.max_backoff = options.max_backoff;
  loop.standby_retry = options.idle_poll;
  run_relay_loop(self, loop, [this, report_wait] { return cycle(report_wait); });
  note("stopping");
  const auto last = cycle(kFinalFlush);
  // Whatever is still queued stays pending in the outbox and is published after the restart.
  if (producer) {
    producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer->flush(500);
  }
  note("stopped");
  spdlog::info("event=outbox_relay_stopped final_rows={} final_delivered={} pending={}", last.rows,
               last.delivered, pending.load());
}

// Turns the outbox trigger's notifications (rows committed by any instance) into wakes, so that
// the leading relay publishes at once also what other instances wrote.
void OutboxRelay::Impl::listen_loop() {
  while (!stopped) {
    if (outbox.await_commit(1000ms)) bridge.wake();
  }
}

OutboxRelay::OutboxRelay(caf::actor_system& system, OutboxRelayOptions options)
    : impl_(std::make_unique<Impl>(system, std::move(options))) {
  if (!impl_->create_producer()) {
    impl_->note("failed", "the Kafka producer could not be created");
    impl_->stopped = true;
    return;
  }
  Impl* impl = impl_.get();
  impl_->bridge.start(
      system, "outbox_relay", [impl](caf::blocking_actor* self) { impl->run(self); },
      [impl](const std::string& cause) { impl->note("failed", cause); });
  impl_->listener = std::thread([impl] { impl->listen_loop(); });
}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::wake() {
  if (!impl_->stopped) impl_->bridge.wake();
}

void OutboxRelay::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->bridge.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

bool OutboxRelay::healthy() const {
  return !impl_->stopped && impl_->health.healthy(kHealthyWithin);
}

int64_t OutboxRelay::pending() const { return impl_->pending.load(); }

nlohmann::json OutboxRelay::status() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {{"state", impl_->state},
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
