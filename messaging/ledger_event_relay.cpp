#include "messaging/ledger_event_relay.hpp"

#include <algorithm>
#include <atomic>

#include "actors/ledger_event_outbox.hpp"
#include "messaging/ledger_event.hpp"
#include "messaging/relay_runner.hpp"

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kCountEvery = 1000ms;
constexpr int64_t kCountCap = 1'000'000;

OutboxPublisherOptions publisher_options() {
  OutboxPublisherOptions o;
  o.name = "ledger_events";
  o.client_id = "transaction-service.ledger-events";
  o.health_name = "ledger-event-relay";
  // A pass produces its rows at once: batch them, and compress the batches (the broker's CPU per
  // event is most of what the stream costs; see docs/).
  o.tuning = {{"linger.ms", "20"}, {"compression.type", "lz4"}};
  return o;
}

}  // namespace

struct LedgerEventRelay::Impl {
  explicit Impl(LedgerEventRelayOptions opts)
      : options(std::move(opts)),
        // A standby looks for the lead again at most once a second, however short the idle poll.
        runner(options, publisher_options(), options.linger,
               /*standby_retry=*/std::max(options.idle_poll, std::chrono::milliseconds(1000))),
        outbox(options.database_url) {}

  PassResult cycle(std::chrono::milliseconds report_wait);
  bool count_pending(bool now);

  const LedgerEventRelayOptions options;
  RelayRunner runner;
  OutboxPublisher& publisher = runner.publisher();
  actors::LedgerEventOutbox outbox;  // actor thread only
  Clock::time_point counted_at{};
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
  wake_due.store(false);  // rows committed from here on are seen by this pass or wake the next
  if (!publisher.begin_pass()) return {0, 0, false};
  // Only one relay per outbox publishes: two would interleave one account's events.
  auto pass = outbox.next(options.batch_size);
  if (!pass || (!pass->leading && !count_pending(false))) {
    publisher.note("backoff", "database: " + outbox.last_cause());
    return {0, 0, false};
  }
  if (!pass->leading) return runner.stand_by();
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
  // The rows of one ledger statement share their outbox entry: it goes when all of them went.
  std::vector<int64_t> batch(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) batch[i] = rows[i].id;
  const bool settled = outbox.remove(wholly_delivered(batch, delivery->sent)) &&
                       count_pending(!delivery->error.empty());
  // Delivered but not deleted: published once more later, with the same event_id. At least once
  // is the contract; consumers deduplicate.
  return runner.end_pass(rows.size(), *delivery, settled, "ledger_events_delete_failed",
                         outbox.last_cause());
}

LedgerEventRelay::LedgerEventRelay(caf::actor_system& system, LedgerEventRelayOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl* impl = impl_.get();
  // False when the producer cannot be created: the relay stays stopped, noted failed.
  impl->runner.start(system, [impl](auto report_wait) { return impl->cycle(report_wait); });
}

LedgerEventRelay::~LedgerEventRelay() { stop(); }

void LedgerEventRelay::wake() {
  // Unless stopped (then runner.wake() sends nothing) or a wake is already due.
  if (impl_->runner.stopped() || impl_->wake_due.exchange(true)) return;
  impl_->runner.wake();
}

void LedgerEventRelay::stop() { impl_->runner.stop(); }

bool LedgerEventRelay::healthy() const { return impl_->runner.healthy(); }

int64_t LedgerEventRelay::pending() const { return impl_->runner.pending(); }

uint64_t LedgerEventRelay::published() const { return impl_->runner.published(); }

nlohmann::json LedgerEventRelay::status() const {
  auto status = impl_->runner.status();
  status["topic"] = impl_->options.topic;
  return status;
}

}  // namespace wallet::messaging
