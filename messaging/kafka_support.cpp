#include "messaging/kafka_support.hpp"

#include <spdlog/spdlog.h>

namespace wallet::messaging {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kLogEveryNs = 10'000'000'000;  // one line per error code per 10 s

}  // namespace

KafkaSettings base_kafka_settings(const std::string& brokers, const std::string& client_id) {
  return {{"bootstrap.servers", brokers},      {"client.id", client_id},
          {"reconnect.backoff.ms", "100"},     {"reconnect.backoff.max.ms", "1000"},
          {"socket.keepalive.enable", "true"}, {"log.connection.close", "false"}};
}

domain::Result<std::shared_ptr<RdKafka::Conf>> make_kafka_conf(const KafkaSettings& settings) {
  std::shared_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [name, value] : settings) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return domain::Error{domain::ErrorCode::internal,
                           "kafka setting " + name + "=" + value + ": " + error};
    }
  }
  return conf;
}

std::unique_ptr<RdKafka::Producer> make_producer(const KafkaSettings& settings,
                                                 BrokerHealth& health, DeliveryTracker& reports,
                                                 std::string& error) {
  auto conf = make_kafka_conf(settings);
  if (!conf) {
    error = conf.error().message;
    return nullptr;
  }
  if ((*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&health), error) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&reports), error) !=
          RdKafka::Conf::CONF_OK) {
    return nullptr;
  }
  return std::unique_ptr<RdKafka::Producer>(RdKafka::Producer::create(conf->get(), error));
}

bool BrokerHealth::should_log(int code) {
  std::lock_guard<std::mutex> lock(log_mutex_);
  auto& last = last_logged_ns_[code];
  const int64_t now = now_ns();
  if (last != 0 && now - last < kLogEveryNs) return false;
  last = now;
  return true;
}

void BrokerHealth::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR: {
      const auto code = event.err();
      if (code == RdKafka::ERR__ALL_BROKERS_DOWN) {
        if (!all_down_.exchange(true)) {
          spdlog::warn("event=kafka_brokers_down client={} cause=\"{}\"", client_, event.str());
        }
      } else if (event.fatal()) {
        spdlog::error("event=kafka_fatal_error client={} code={} cause=\"{}\"", client_,
                      RdKafka::err2str(code), event.str());
      } else if (should_log(static_cast<int>(code))) {
        spdlog::warn("event=kafka_error client={} code={} cause=\"{}\"", client_,
                     RdKafka::err2str(code), event.str());
      }
      break;
    }
    case RdKafka::Event::EVENT_LOG:
      // Severity 0..3 is emergency..error in syslog terms; the rest is librdkafka's chatter.
      if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_ERROR && should_log(-1)) {
        spdlog::warn("event=kafka_log client={} facility={} text=\"{}\"", client_, event.fac(),
                     event.str());
      } else {
        spdlog::debug("event=kafka_log client={} facility={} text=\"{}\"", client_, event.fac(),
                      event.str());
      }
      break;
    default:
      break;
  }
}

void BrokerHealth::probe(RdKafka::Handle& handle, std::chrono::milliseconds every, int timeout_ms) {
  const int64_t now = now_ns();
  if (now - last_probe_ns_.load() < std::chrono::nanoseconds(every).count()) return;
  last_probe_ns_.store(now);
  RdKafka::Metadata* metadata = nullptr;
  // Brokers only: no topic list is asked for, so the answer is small whatever the cluster holds.
  const auto code = handle.metadata(false, nullptr, &metadata, timeout_ms);
  delete metadata;
  if (code == RdKafka::ERR_NO_ERROR) {
    last_ok_ns_.store(now_ns());
    if (all_down_.exchange(false)) spdlog::info("event=kafka_brokers_up client={}", client_);
  } else if (should_log(-2)) {
    spdlog::warn("event=kafka_probe_failed client={} cause=\"{}\"", client_,
                 RdKafka::err2str(code));
  }
}

bool BrokerHealth::healthy(std::chrono::milliseconds within) const {
  const int64_t last = last_ok_ns_.load();
  return last != 0 && !all_down_.load() &&
         now_ns() - last <= std::chrono::nanoseconds(within).count();
}

int64_t BrokerHealth::last_contact_ms() const {
  const int64_t last = last_ok_ns_.load();
  return last == 0 ? -1 : (now_ns() - last) / 1'000'000;
}

void DeliveryTracker::dr_cb(RdKafka::Message& message) {
  const auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()));
  auto it = outcomes_.find(id);
  if (it == outcomes_.end()) return;  // a report of an earlier batch we stopped waiting for
  it->second = static_cast<int>(message.err());
  if (message.err() != RdKafka::ERR_NO_ERROR) last_error_ = message.errstr();
}

size_t DeliveryTracker::outstanding() const {
  size_t count = 0;
  for (const auto& [id, outcome] : outcomes_) count += (outcome == kPending) ? 1 : 0;
  return count;
}

bool DeliveryTracker::delivered(uint64_t id) const {
  auto it = outcomes_.find(id);
  return it != outcomes_.end() && it->second == RdKafka::ERR_NO_ERROR;
}

}  // namespace wallet::messaging
