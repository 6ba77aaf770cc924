#include "messaging/outbox_publisher.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace wallet::messaging {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kProbeEvery = 2000ms;
constexpr int kProbeTimeoutMs = 500;
constexpr auto kHealthyWithin = 6000ms;

}  // namespace

OutboxPublisher::OutboxPublisher(OutboxPublisherOptions options)
    : options_(std::move(options)), health_(options_.health_name) {}

bool OutboxPublisher::create_producer() {
  auto settings = base_kafka_settings(options_.brokers, options_.client_id);
  settings.insert(settings.end(),
                  {{"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"max.in.flight.requests.per.connection", "5"},
                   {"message.timeout.ms", std::to_string(options_.message_timeout_ms)}});
  settings.insert(settings.end(), options_.tuning.begin(), options_.tuning.end());
  std::string error;
  producer_ = make_producer(settings, health_, reports_, error);
  if (!producer_) {
    spdlog::critical("event={}_producer_create_failed cause=\"{}\"", options_.name, error);
  }
  return producer_ != nullptr;
}

bool OutboxPublisher::ready() {
  if (producer_ || create_producer()) return true;
  note("backoff", "kafka: the producer could not be created");
  return false;
}

void OutboxPublisher::probe() {
  if (producer_) health_.probe(*producer_, kProbeEvery, kProbeTimeoutMs);
}

bool OutboxPublisher::begin_pass() {
  count_cycle();
  if (!ready()) return false;
  probe();
  return true;
}

std::optional<OutboxDelivery> OutboxPublisher::publish(
    size_t count, const std::function<OutboxMessage(size_t, std::string&)>& message,
    std::chrono::milliseconds report_wait) {
  std::string fatal;
  if (producer_->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
    // An idempotent producer can fail for good (e.g. a sequence gap it cannot repair): start over.
    spdlog::error("event={}_producer_fatal cause=\"{}\"", options_.name, fatal);
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_.reset();
    if (!create_producer()) return std::nullopt;
  }

  reports_.clear();
  const auto deadline = Clock::now() + report_wait;
  // Delivery reports name a message by this batch's number and its place in the batch: several
  // messages may carry one outbox id (the rows of one ledger statement's entry), and a late report
  // of an earlier batch we stopped waiting for names no message of this one.
  const uint64_t batch = ++batches_ << 32;
  std::vector<int64_t> queued;
  queued.reserve(count);
  std::string produce_error, scratch, topic;
  for (size_t i = 0; i < count; ++i) {
    const OutboxMessage m = message(i, scratch);
    if (topic != m.topic) topic.assign(m.topic);
    RdKafka::ErrorCode code;
    do {
      code = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(m.value.data()), m.value.size(), m.key.data(),
                                m.key.size(), 0, as_opaque(batch | i));
      if (code == RdKafka::ERR__QUEUE_FULL) producer_->poll(50);
    } while (code == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline);
    if (code != RdKafka::ERR_NO_ERROR) {
      // Nothing after a row that could not be queued: later rows of its key must not pass it.
      produce_error = RdKafka::err2str(code);
      break;
    }
    reports_.expect(batch | i);
    queued.push_back(m.id);
  }
  while (reports_.outstanding() > 0 && Clock::now() < deadline) {
    producer_->poll(100);
    probe();
  }

  OutboxDelivery delivery;
  delivery.sent.reserve(queued.size());
  for (size_t i = 0; i < queued.size(); ++i) {
    (reports_.delivered(batch | i) ? delivery.sent : delivery.unsent).push_back(queued[i]);
  }
  published_ += delivery.sent.size();
  failed_deliveries_ += delivery.unsent.size();
  delivery.error = !produce_error.empty()    ? produce_error
                   : delivery.unsent.empty() ? ""
                   : reports_.outstanding()  ? "no delivery report in time"
                                             : reports_.last_error();
  return delivery;
}

std::vector<int64_t> wholly_delivered(const std::vector<int64_t>& batch,
                                      const std::vector<int64_t>& sent) {
  std::map<int64_t, long> left;  // messages of each id not (yet) known delivered
  for (int64_t id : batch) ++left[id];
  for (int64_t id : sent) {
    auto it = left.find(id);
    if (it != left.end()) --it->second;
  }
  std::vector<int64_t> whole;
  for (const auto& [id, missing] : left) {
    if (missing == 0) whole.push_back(id);
  }
  return whole;
}

void OutboxPublisher::close() {
  if (!producer_) return;
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->flush(500);
}

void OutboxPublisher::note(const char* state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
  if (!error.empty()) last_error_ = error;
}

bool OutboxPublisher::healthy() const { return health_.healthy(kHealthyWithin); }

nlohmann::json OutboxPublisher::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"state", state_},
          {"pending", pending_.load()},
          {"broker_reachable", health_.healthy(kHealthyWithin)},
          {"last_broker_contact_ms", health_.last_contact_ms()},
          {"last_error", last_error_},
          {"counters",
           {{"published", published_.load()},
            {"failed_deliveries", failed_deliveries_.load()},
            {"cycles", cycles_.load()}}}};
}

}  // namespace wallet::messaging
