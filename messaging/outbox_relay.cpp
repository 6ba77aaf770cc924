#include "messaging/outbox_relay.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "messaging/relay_runner.hpp"
#include "users/outbox.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;

OutboxPublisherOptions publisher_options() {
  OutboxPublisherOptions o;
  o.name = "outbox";
  o.client_id = "user-service.outbox-relay";
  o.health_name = "outbox-relay";
  o.tuning = {{"linger.ms", "0"}};  // rows are batched per pass already
  return o;
}

}  // namespace

struct OutboxRelay::Impl {
  explicit Impl(OutboxRelayOptions opts)
      : options(std::move(opts)),
        // No linger between passes: a NOTIFY is served at once. A standby looks for the lead
        // again at the idle poll.
        runner(options, publisher_options(), /*linger=*/0ms, /*standby_retry=*/options.idle_poll),
        outbox(options.database_url) {}

  PassResult cycle(std::chrono::milliseconds report_wait);
  void listen_loop();

  const OutboxRelayOptions options;
  RelayRunner runner;
  OutboxPublisher& publisher = runner.publisher();
  users::Outbox outbox;  // next/settle on the actor thread, await_commit on the listener thread
  std::thread listener;
};

// One pass: send up to batch_size pending rows in id order, wait for their delivery reports, mark
// exactly the delivered rows sent. Rows not delivered stay pending, so the next pass starts again
// from the first unsent row.
PassResult OutboxRelay::Impl::cycle(std::chrono::milliseconds report_wait) {
  if (!publisher.begin_pass()) return {0, 0, false};
  // Only one relay per outbox publishes: the others stand by until the leader's session ends.
  auto pass = outbox.next(options.batch_size);
  if (!pass) {
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) {
    publisher.set_pending(pass->pending);
    return runner.stand_by();
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
  if (settled) publisher.set_pending(*settled);
  // Delivered but not marked: those rows are published once more later. At-least-once is the
  // contract; the consumer opens each account once however often it arrives.
  const auto result = runner.end_pass(rows.size(), *delivery, static_cast<bool>(settled),
                                      "outbox_mark_failed", outbox.last_cause());
  if (result.ok) spdlog::debug("event=outbox_published rows={}", delivery->sent.size());
  return result;
}

// Turns the outbox trigger's notifications (rows committed by any instance) into wakes, so that
// the leading relay publishes at once also what other instances wrote.
void OutboxRelay::Impl::listen_loop() {
  while (!runner.stopped()) {
    if (outbox.await_commit(1000ms)) runner.wake();
  }
}

OutboxRelay::OutboxRelay(caf::actor_system& system, OutboxRelayOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl* impl = impl_.get();
  if (!impl->runner.start(system, [impl](auto report_wait) { return impl->cycle(report_wait); })) {
    return;
  }
  impl->listener = std::thread([impl] { impl->listen_loop(); });
}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::wake() { impl_->runner.wake(); }

void OutboxRelay::stop() {
  if (!impl_->runner.stop()) return;
  if (impl_->listener.joinable()) impl_->listener.join();
}

bool OutboxRelay::healthy() const { return impl_->runner.healthy(); }

int64_t OutboxRelay::pending() const { return impl_->runner.pending(); }

nlohmann::json OutboxRelay::status() const { return impl_->runner.status(); }

}  // namespace wallet::messaging
