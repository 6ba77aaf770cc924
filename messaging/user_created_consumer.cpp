// UserCreatedConsumer: a detached (blocking) CAF actor that owns a KafkaConsumer and a DLQ
// producer. Per message: decode; open the account through actors::Ledger::open_account (the one
// place that creates accounts and tells the account actors) or dead-letter the value; only then, in
// the completion, commit that message's offset synchronously. A database or DLQ outage retries the
// same message with backoff, so nothing is ever skipped.
#include "messaging/user_created_consumer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

#include "actors/ledger.hpp"
#include "messaging/dead_letter_producer.hpp"
#include "messaging/detached_bridge.hpp"
#include "messaging/kafka_support.hpp"
#include "messaging/partition_tracker.hpp"
#include "messaging/user_created_event.hpp"

namespace wallet::messaging {
namespace {

using stop_atom = bridge_stop_atom;
using opening_atom = caf::atom_constant<caf::atom("opening")>;
using namespace std::chrono_literals;

constexpr int kConsumeTimeoutMs = 200;
constexpr auto kMinBackoff = 100ms;
constexpr auto kMaxBackoff = 5000ms;
constexpr auto kProbeEvery = 2000ms;
constexpr int kProbeTimeoutMs = 1000;
constexpr auto kHealthyWithin = 6000ms;
constexpr auto kStatsEvery = 2000ms;
constexpr auto kOpenAccountWait = 60000ms;  // the pool always answers; this only guards a bug

enum class Step { done, rejected, stopped };

}  // namespace

struct UserCreatedConsumer::Impl {
  Impl(caf::actor_system& sys, ConsumerOptions opts, actors::Ledger& ledger_ref)
      : system(sys),
        options(std::move(opts)),
        ledger(ledger_ref),
        dlq(options.brokers, options.dlq_topic) {}

  bool start();
  void run(caf::blocking_actor* self);

  bool pause_for(caf::blocking_actor* self, std::chrono::milliseconds wait);
  void handle(caf::blocking_actor* self, RdKafka::Message& message);
  Step open_account(caf::blocking_actor* self, const UserCreatedEvent& event, std::string& reason);
  Step dead_letter(caf::blocking_actor* self, RdKafka::Message& message, const std::string& reason);
  void commit(RdKafka::Message& message);
  void refresh_stats(bool force);
  void set_state(const char* value);

  caf::actor_system& system;
  const ConsumerOptions options;
  actors::Ledger& ledger;
  BrokerHealth health{"user-created-consumer"};
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  DeadLetterProducer dlq;
  DetachedBridge bridge;
  bool stopping = false;  // actor thread only
  std::chrono::steady_clock::time_point stats_at;

  std::atomic<uint64_t> processed{0}, opened{0}, duplicates{0}, dead_lettered{0}, db_retries{0},
      commit_failures{0};
  mutable std::mutex mutex;  // guards what status() reads
  std::string state = "starting";
  PartitionTracker tracker;  // rebalances and the per-partition figures of status()
};

bool UserCreatedConsumer::Impl::start() {
  auto settings = base_kafka_settings(options.brokers, "transaction-service.consumer");
  settings.insert(settings.end(),
                  {{"group.id", options.group},
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"auto.offset.reset", "earliest"},
                   {"enable.partition.eof", "false"},
                   // A member that crashed holds its partitions until the session
                   // times out: 10 s instead of 45 s bounds that provisioning stall.
                   {"session.timeout.ms", "10000"},
                   {"heartbeat.interval.ms", "2000"}});
  auto conf = make_kafka_conf(settings);
  if (!conf) {
    spdlog::critical("event=kafka_consumer_config_failed cause=\"{}\"", conf.error().message);
    return false;
  }
  std::string error;
  if ((*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&health), error) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(&tracker), error) !=
          RdKafka::Conf::CONF_OK) {
    spdlog::critical("event=kafka_consumer_config_failed cause=\"{}\"", error);
    return false;
  }
  consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) {
    spdlog::critical("event=kafka_consumer_create_failed cause=\"{}\"", error);
    return false;
  }
  if (!dlq.start()) return false;
  // Subscribing does not need the broker: the group is joined from the first consume() on.
  const auto code = consumer->subscribe({options.topic});
  if (code != RdKafka::ERR_NO_ERROR) {
    spdlog::critical("event=kafka_subscribe_failed topic={} cause=\"{}\"", options.topic,
                     RdKafka::err2str(code));
    return false;
  }
  return true;
}

void UserCreatedConsumer::Impl::set_state(const char* value) {
  std::lock_guard<std::mutex> lock(mutex);
  state = value;
}

// Waits up to `wait` for a stop request (the only message this actor gets); true when stopping.
bool UserCreatedConsumer::Impl::pause_for(caf::blocking_actor* self,
                                          std::chrono::milliseconds wait) {
  if (stopping) return true;
  self->receive([this](stop_atom) { stopping = true; }, caf::after(wait) >> [] {});
  if (!stopping && wait > 0ms) refresh_stats(false);
  return stopping;
}

void UserCreatedConsumer::Impl::run(caf::blocking_actor* self) {
  set_state("running");
  spdlog::info("event=kafka_consumer_started topic={} group={} dlq={}", options.topic,
               options.group, options.dlq_topic);
  while (!pause_for(self, 0ms)) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(kConsumeTimeoutMs));
    refresh_stats(false);
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        handle(self, *message);
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default:
        // Consumer-level errors (broker down, unknown topic) are transient: librdkafka retries.
        spdlog::debug("event=kafka_consume_error cause=\"{}\"", message->errstr());
        break;
    }
  }
  // Offsets were committed per message: close() leaves the group without committing anything.
  const auto code = consumer->close();
  if (code != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("event=kafka_consumer_close_failed cause=\"{}\"", RdKafka::err2str(code));
  }
  dlq.flush(2000);
  set_state("stopped");
  spdlog::info("event=kafka_consumer_stopped processed={} opened={} duplicates={} dead_lettered={}",
               processed.load(), opened.load(), duplicates.load(), dead_lettered.load());
}

void UserCreatedConsumer::Impl::handle(caf::blocking_actor* self, RdKafka::Message& message) {
  const std::string value(static_cast<const char*>(message.payload()), message.len());
  auto event = decode_user_created(value);
  std::string reason = event ? "" : event.error().message;
  if (event) {
    switch (open_account(self, *event, reason)) {
      case Step::stopped:
        return;  // not committed: redelivered after the restart
      case Step::rejected:
      case Step::done:
        break;
    }
  }
  if (!reason.empty()) {
    spdlog::warn("event=user_created_poison partition={} offset={} reason=\"{}\"",
                 message.partition(), message.offset(), reason);
    if (dead_letter(self, message, reason) == Step::stopped) return;
    ++dead_lettered;
  }
  commit(message);
  ++processed;
}

Step UserCreatedConsumer::Impl::open_account(caf::blocking_actor* self,
                                             const UserCreatedEvent& event, std::string& reason) {
  auto backoff = std::chrono::milliseconds(kMinBackoff);
  const caf::actor me = caf::actor_cast<caf::actor>(self);
  for (int attempt = 1;; ++attempt) {
    ledger.open_account(event.user_id, event.created_at, [me](actors::AccountOpening outcome) {
      caf::anon_send(me, opening_atom::value, static_cast<int>(outcome));
    });
    auto outcome = actors::AccountOpening::unavailable;
    bool answered = false;
    // Waits for the Ledger's answer; a stop request meanwhile leaves the message uncommitted.
    while (!answered && !stopping) {
      self->receive(
          [&](opening_atom, int value) {
            outcome = static_cast<actors::AccountOpening>(value);
            answered = true;
          },
          [this](stop_atom) { stopping = true; },
          caf::after(kOpenAccountWait) >> [&] { answered = true; });
    }
    if (stopping) return Step::stopped;
    switch (outcome) {
      case actors::AccountOpening::opened:
      case actors::AccountOpening::already_open:
        ++(outcome == actors::AccountOpening::opened ? opened : duplicates);
        if (attempt > 1) spdlog::info("event=kafka_consumer_db_recovered attempts={}", attempt);
        spdlog::debug("event=account_opened user_id={} new={}", event.user_id,
                      outcome == actors::AccountOpening::opened);
        return Step::done;
      case actors::AccountOpening::invalid:
        // The value passed our checks but Postgres refuses it (e.g. a timestamp out of its range):
        // retrying can never succeed.
        spdlog::warn("event=user_created_rejected user_id={}", event.user_id);
        reason = "created_at was rejected by the database";
        return Step::rejected;
      case actors::AccountOpening::unavailable:
        // Anything else (outage, restart, failover) may heal: keep the message and retry.
        ++db_retries;
        if (attempt == 1 || attempt % 10 == 0) {
          spdlog::warn("event=kafka_consumer_db_retry user_id={} attempt={} backoff_ms={}",
                       event.user_id, attempt, backoff.count());
        }
        break;
    }
    if (pause_for(self, backoff)) return Step::stopped;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kMaxBackoff));
  }
}

Step UserCreatedConsumer::Impl::dead_letter(caf::blocking_actor* self, RdKafka::Message& message,
                                            const std::string& reason) {
  auto backoff = std::chrono::milliseconds(kMinBackoff);
  for (int attempt = 1;; ++attempt) {
    const std::string cause = dlq.send(message, reason);
    if (cause.empty()) return Step::done;
    spdlog::warn("event=kafka_dlq_retry attempt={} backoff_ms={} cause=\"{}\"", attempt,
                 backoff.count(), cause);
    if (pause_for(self, backoff)) return Step::stopped;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kMaxBackoff));
  }
}

void UserCreatedConsumer::Impl::commit(RdKafka::Message& message) {
  const auto code = consumer->commitSync(&message);
  if (code != RdKafka::ERR_NO_ERROR) {
    // The partition may have moved to another member (e.g. after a long outage): whoever owns it
    // now redelivers from the last commit, and opening an account twice changes nothing.
    ++commit_failures;
    spdlog::warn("event=kafka_commit_failed partition={} offset={} cause=\"{}\"",
                 message.partition(), message.offset(), RdKafka::err2str(code));
    return;
  }
  tracker.committed(message.partition(), message.offset());
}

// Runs on the actor thread: keeps the health probe fresh and copies the partition figures that
// status() reports, so that status() never calls into librdkafka from a reactor thread.
void UserCreatedConsumer::Impl::refresh_stats(bool force) {
  health.probe(*consumer, kProbeEvery, kProbeTimeoutMs);
  const auto now = std::chrono::steady_clock::now();
  if (!tracker.take_refresh_due() && !force && now - stats_at < kStatsEvery) return;
  stats_at = now;
  tracker.refresh(*consumer, health.healthy(kHealthyWithin), kProbeTimeoutMs);
}

UserCreatedConsumer::UserCreatedConsumer(caf::actor_system& system, ConsumerOptions options,
                                         actors::Ledger& ledger)
    : impl_(std::make_unique<Impl>(system, std::move(options), ledger)) {
  if (!impl_->start()) {
    impl_->set_state("failed");
    return;
  }
  Impl* impl = impl_.get();
  impl_->bridge.start(
      system, "kafka_consumer", [impl](caf::blocking_actor* self) { impl->run(self); },
      [impl](const std::string&) { impl->set_state("failed"); });
}

UserCreatedConsumer::~UserCreatedConsumer() { stop(); }

void UserCreatedConsumer::stop() { impl_->bridge.stop(); }

bool UserCreatedConsumer::healthy() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->state == "running" && impl_->health.healthy(kHealthyWithin);
}

nlohmann::json UserCreatedConsumer::status() const {
  const auto& i = *impl_;
  std::string state;
  {
    std::lock_guard<std::mutex> lock(i.mutex);
    state = i.state;
  }
  const auto figures = i.tracker.report();
  return {{"state", state},
          {"topic", i.options.topic},
          {"group", i.options.group},
          {"dlq_topic", i.options.dlq_topic},
          {"broker_reachable", i.health.healthy(kHealthyWithin)},
          {"last_broker_contact_ms", i.health.last_contact_ms()},
          {"assigned_partitions", figures.assigned},
          {"partitions", figures.partitions},
          {"total_lag", figures.total_lag},
          {"counters",
           {{"processed", i.processed.load()},
            {"opened", i.opened.load()},
            {"duplicates", i.duplicates.load()},
            {"dead_lettered", i.dead_lettered.load()},
            {"db_retries", i.db_retries.load()},
            {"commit_failures", i.commit_failures.load()}}}};
}

}  // namespace wallet::messaging
