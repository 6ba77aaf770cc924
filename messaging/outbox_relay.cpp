#include "messaging/outbox_relay.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "messaging/detached_bridge.hpp"
#include "messaging/outbox_publisher.hpp"
#include "users/outbox.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;

constexpr auto kFinalFlush = 3000ms;

OutboxPublisherOptions publisher_options(const OutboxRelayOptions& options) {
  OutboxPublisherOptions o;
  o.name = "outbox";
  o.client_id = "user-service.outbox-relay";
  o.health_name = "outbox-relay";
  o.brokers = options.brokers;
  o.message_timeout_ms = options.message_timeout_ms;
  o.tuning = {{"linger.ms", "0"}};  // rows are batched per pass already
  return o;
}

}  // namespace

struct OutboxRelay::Impl {
  Impl(caf::actor_system& sys, OutboxRelayOptions opts)
      : system(sys),
        options(std::move(opts)),
        publisher(publisher_options(options)),
        outbox(options.database_url) {}

  void run(caf::blocking_actor* self);
  PassResult cycle(std::chrono::milliseconds report_wait);
  void listen_loop();

  caf::actor_system& system;
  const OutboxRelayOptions options;
  OutboxPublisher publisher;
  users::Outbox outbox;  // next/settle on the actor thread, await_commit on the listener thread
  DetachedBridge bridge;
  std::thread listener;
  std::atomic<bool> stopped{false};
};

// One pass: send up to batch_size pending rows in id order, wait for their delivery reports, mark
// exactly the delivered rows sent. Rows not delivered stay pending, so the next pass starts again
// from the first unsent row.
PassResult OutboxRelay::Impl::cycle(std::chrono::milliseconds report_wait) {
  publisher.count_cycle();
  if (!publisher.ready()) return {0, 0, false};
  publisher.probe();
  // Only one relay per outbox publishes: the others stand by until the leader's session ends.
  auto pass = outbox.next(options.batch_size);
  if (!pass) {
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) {
    publisher.set_pending(pass->pending);
    publisher.note("standby");
    PassResult standby;
    standby.standby = true;
    return standby;
  }
  const auto& rows = pass->rows;
  if (rows.empty()) {
    publisher.set_pending(0);
    return {};
  }
  auto delivery = publisher.publish(
      rows.size(),
      [&rows](size_t i, std::string&) {
        const auto& row = rows[i];
        return OutboxMessage{row.topic, row.key, row.payload, row.id};
      },
      report_wait);
  if (!delivery) return {rows.size(), 0, false};
  auto settled = outbox.settle(delivery->sent, delivery->unsent);
  if (!settled) {
    // Delivered but not marked: those rows are published once more later. At-least-once is the
    // contract; the consumer opens each account once however often it arrives.
    spdlog::warn("event=outbox_mark_failed delivered={}", delivery->sent.size());
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {rows.size(), delivery->sent.size(), false};
  }
  publisher.set_pending(*settled);
  if (!delivery->error.empty()) {
    spdlog::warn("event=outbox_publish_failed rows={} delivered={} cause=\"{}\"", rows.size(),
                 delivery->sent.size(), delivery->error);
    publisher.note("backoff", "kafka: " + delivery->error);
    return {rows.size(), delivery->sent.size(), false};
  }
  spdlog::debug("event=outbox_published rows={}", delivery->sent.size());
  publisher.note("running");
  return {rows.size(), delivery->sent.size(), true};
}

void OutboxRelay::Impl::run(caf::blocking_actor* self) {
  publisher.note("running");
  const auto report_wait = std::chrono::milliseconds(options.message_timeout_ms + 2000);
  RelayLoopOptions loop;
  loop.name = "outbox_relay";
  loop.batch_size = static_cast<size_t>(options.batch_size);
  loop.idle_poll = options.idle_poll;
  loop.min_backoff = options.min_backoff;
  loop.max_backoff = options.max_backoff;
  loop.standby_retry = options.idle_poll;
  run_relay_loop(self, loop, [this, report_wait] { return cycle(report_wait); });
  publisher.note("stopping");
  const auto last = cycle(kFinalFlush);
  // Whatever is still queued stays pending in the outbox and is published after the restart.
  publisher.close();
  publisher.note("stopped");
  spdlog::info("event=outbox_relay_stopped final_rows={} final_delivered={} pending={}", last.rows,
               last.delivered, publisher.pending());
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
  if (!impl_->publisher.ready()) {
    impl_->publisher.note("failed", "the Kafka producer could not be created");
    impl_->stopped = true;
    return;
  }
  Impl* impl = impl_.get();
  impl_->bridge.start(
      system, "outbox_relay", [impl](caf::blocking_actor* self) { impl->run(self); },
      [impl](const std::string& cause) { impl->publisher.note("failed", cause); });
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

bool OutboxRelay::healthy() const { return !impl_->stopped && impl_->publisher.healthy(); }

int64_t OutboxRelay::pending() const { return impl_->publisher.pending(); }

nlohmann::json OutboxRelay::status() const { return impl_->publisher.status(); }

}  // namespace wallet::messaging
