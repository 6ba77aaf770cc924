#include "messaging/ledger_event_relay.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "actors/ledger_event_outbox.hpp"
#include "messaging/detached_bridge.hpp"
#include "messaging/ledger_event.hpp"
#include "messaging/outbox_publisher.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kFinalFlush = 3000ms;
constexpr auto kCountEvery = 1000ms;
constexpr int64_t kCountCap = 1'000'000;

OutboxPublisherOptions publisher_options(const LedgerEventRelayOptions& options) {
  OutboxPublisherOptions o;
  o.name = "ledger_events";
  o.client_id = "transaction-service.ledger-events";
  o.health_name = "ledger-event-relay";
  o.brokers = options.brokers;
  o.message_timeout_ms = options.message_timeout_ms;
  // A pass produces its rows at once: batch them, and compress the batches (the broker's CPU per
  // event is most of what the stream costs; see docs/).
  o.tuning = {{"linger.ms", "20"}, {"compression.type", "lz4"}};
  return o;
}

}  // namespace

struct LedgerEventRelay::Impl {
  Impl(caf::actor_system& sys, LedgerEventRelayOptions opts)
      : system(sys),
        options(std::move(opts)),
        publisher(publisher_options(options)),
        outbox(options.database_url) {}

  void run(caf::blocking_actor* self);
  PassResult cycle(std::chrono::milliseconds report_wait);
  bool count_pending(bool now);

  caf::actor_system& system;
  const LedgerEventRelayOptions options;
  OutboxPublisher publisher;
  actors::LedgerEventOutbox outbox;  // actor thread only
  Clock::time_point counted_at{};
  DetachedBridge bridge;
  std::atomic<bool> stopped{false};
  // Set by wake(), cleared when a pass starts: at most one wake message waits in the mailbox, so
  // a commit costs the relay's thread no wake-up while one is already due.
  std::atomic<bool> wake_due{false};
};

// False when the count failed (the database is away).
bool LedgerEventRelay::Impl::count_pending(bool now) {
  if (!now && Clock::now() - counted_at < kCountEvery) return true;
  auto counted = outbox.count(kCountCap);
  if (!counted) return false;
  publisher.set_pending(*counted);
  counted_at = Clock::now();
  return true;
}

// One pass: publish up to batch_size pending rows in id order, wait for their delivery reports,
// delete exactly the delivered rows. The idempotent producer keeps each partition's messages in
// produce order without gaps, so a row that failed was not overtaken by a later one of its key;
// rows not delivered stay, and the next pass starts again from the first of them.
PassResult LedgerEventRelay::Impl::cycle(std::chrono::milliseconds report_wait) {
  publisher.count_cycle();
  if (!publisher.ready()) return {0, 0, false};
  publisher.probe();
  // Only one relay per outbox publishes: two would interleave one account's events.
  auto pass = outbox.next(options.batch_size);
  if (!pass || (!pass->leading && !count_pending(false))) {
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) {
    publisher.note("standby");
    PassResult standby;
    standby.standby = true;
    return standby;
  }
  const auto& rows = pass->rows;
  if (rows.empty()) {
    publisher.set_pending(0);
    publisher.note("running");
    return {};
  }
  auto delivery = publisher.publish(
      rows.size(),
      [this, &rows](size_t i, std::string& value) {
        const auto& row = rows[i];
        encode_ledger_event(row, value);
        return OutboxMessage{options.topic, row.user_id, value, row.id};
      },
      report_wait);
  if (!delivery) return {rows.size(), 0, false};
  const auto& error = delivery->error;
  // The rows of one ledger statement share their outbox entry: it goes when all of them went.
  std::vector<int64_t> batch(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) batch[i] = rows[i].id;
  if (!outbox.remove(wholly_delivered(batch, delivery->sent)) || !count_pending(!error.empty())) {
    // Delivered but not deleted: published once more later, with the same event_id. At least
    // once is the contract; consumers deduplicate.
    spdlog::warn("event=ledger_events_delete_failed delivered={}", delivery->sent.size());
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {rows.size(), delivery->sent.size(), false};
  }
  if (!error.empty()) {
    spdlog::warn("event=ledger_events_publish_failed rows={} delivered={} cause=\"{}\"",
                 rows.size(), delivery->sent.size(), error);
    publisher.note("backoff", "kafka: " + error);
    return {rows.size(), delivery->sent.size(), false};
  }
  publisher.note("running");
  return {rows.size(), delivery->sent.size(), true};
}

void LedgerEventRelay::Impl::run(caf::blocking_actor* self) {
  publisher.note("running");
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
  publisher.note("stopping");
  const auto last = cycle(kFinalFlush);
  // Whatever is still queued stays in the outbox and is published after the restart.
  publisher.close();
  publisher.note("stopped");
  spdlog::info("event=ledger_events_relay_stopped final_rows={} final_delivered={} pending={}",
               last.rows, last.delivered, publisher.pending());
}

LedgerEventRelay::LedgerEventRelay(caf::actor_system& system, LedgerEventRelayOptions options)
    : impl_(std::make_unique<Impl>(system, std::move(options))) {
  if (!impl_->publisher.ready()) {
    impl_->publisher.note("failed", "the Kafka producer could not be created");
    impl_->stopped = true;
    return;
  }
  Impl* impl = impl_.get();
  impl_->bridge.start(
      system, "ledger_events_relay", [impl](caf::blocking_actor* self) { impl->run(self); },
      [impl](const std::string& cause) { impl->publisher.note("failed", cause); });
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

bool LedgerEventRelay::healthy() const { return !impl_->stopped && impl_->publisher.healthy(); }

int64_t LedgerEventRelay::pending() const { return impl_->publisher.pending(); }

uint64_t LedgerEventRelay::published() const { return impl_->publisher.published(); }

nlohmann::json LedgerEventRelay::status() const {
  auto status = impl_->publisher.status();
  status["topic"] = impl_->options.topic;
  return status;
}

}  // namespace wallet::messaging
