#include "messaging/relay_runner.hpp"

#include <spdlog/spdlog.h>

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;

constexpr auto kFinalFlush = 3000ms;
// A pass waits for its delivery reports a little longer than a delivery may take to fail.
constexpr auto kReportGrace = 2000ms;

OutboxPublisherOptions with_connection(OutboxPublisherOptions publisher,
                                       const RelayOptions& options) {
  publisher.brokers = options.brokers;
  publisher.message_timeout_ms = options.message_timeout_ms;
  return publisher;
}

RelayLoopOptions loop_options(const std::string& name, const RelayOptions& options,
                              std::chrono::milliseconds linger,
                              std::chrono::milliseconds standby_retry) {
  RelayLoopOptions loop;
  loop.name = name + "_relay";
  loop.batch_size = static_cast<size_t>(options.batch_size);
  loop.idle_poll = options.idle_poll;
  loop.linger = linger;
  loop.min_backoff = options.min_backoff;
  loop.max_backoff = options.max_backoff;
  loop.standby_retry = standby_retry;
  return loop;
}

}  // namespace

RelayRunner::RelayRunner(const RelayOptions& options, OutboxPublisherOptions publisher,
                         std::chrono::milliseconds linger, std::chrono::milliseconds standby_retry)
    : publisher_(with_connection(publisher, options)),
      loop_(loop_options(publisher.name, options, linger, standby_retry)),
      report_wait_(std::chrono::milliseconds(options.message_timeout_ms) + kReportGrace) {}

bool RelayRunner::start(caf::actor_system& system, Pass pass) {
  if (!publisher_.ready()) {
    publisher_.note("failed", "the Kafka producer could not be created");
    stopped_ = true;
    return false;
  }
  bridge_.start(
      system, loop_.name,
      [this, pass = std::move(pass)](caf::blocking_actor* self) { run(self, pass); },
      [this](const std::string& cause) { publisher_.note("failed", cause); });
  return true;
}

void RelayRunner::wake() const {
  if (!stopped()) bridge_.wake();
}

bool RelayRunner::stop() {
  if (stopped_.exchange(true)) return false;
  bridge_.stop();
  return true;
}

void RelayRunner::run(caf::blocking_actor* self, const Pass& pass) {
  publisher_.note("running");
  run_relay_loop(self, loop_, [this, &pass] { return pass(report_wait_); });
  publisher_.note("stopping");
  const auto last = pass(kFinalFlush);
  // Whatever is still queued stays pending in the outbox and is published after the restart.
  publisher_.close();
  publisher_.note("stopped");
  spdlog::info("event={}_stopped final_rows={} final_delivered={} pending={}", loop_.name,
               last.rows, last.delivered, publisher_.pending());
}

PassResult RelayRunner::stand_by() {
  publisher_.note("standby");
  PassResult standby;
  standby.standby = true;
  return standby;
}

PassResult RelayRunner::end_pass(size_t rows, const OutboxDelivery& delivery, bool settled,
                                 const char* settle_failed_event,
                                 const std::string& database_cause) {
  const size_t delivered = delivery.sent.size();
  if (!settled) {
    spdlog::warn("event={} delivered={}", settle_failed_event, delivered);
    publisher_.note("backoff", "database: " + database_cause);
    return {rows, delivered, false};
  }
  if (!delivery.error.empty()) {
    spdlog::warn("event={}_publish_failed rows={} delivered={} cause=\"{}\"", publisher_.name(),
                 rows, delivered, delivery.error);
    publisher_.note("backoff", "kafka: " + delivery.error);
    return {rows, delivered, false};
  }
  publisher_.note("running");
  return {rows, delivered, true};
}

}  // namespace wallet::messaging
