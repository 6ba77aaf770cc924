#include "messaging/dead_letter_producer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace wallet::messaging {
namespace {

constexpr auto kDeliveryWait = std::chrono::milliseconds(15000);  // above message.timeout.ms

}  // namespace

DeadLetterProducer::DeadLetterProducer(std::string brokers, std::string topic)
    : brokers_(std::move(brokers)), topic_(std::move(topic)) {}

DeadLetterProducer::~DeadLetterProducer() = default;

bool DeadLetterProducer::start() {
  auto settings = base_kafka_settings(brokers_, "transaction-service.dlq");
  settings.insert(
      settings.end(),
      {{"acks", "all"}, {"enable.idempotence", "true"}, {"message.timeout.ms", "10000"}});
  std::string error;
  producer_ = make_producer(settings, health_, reports_, error);
  if (!producer_) spdlog::critical("event=kafka_dlq_producer_create_failed cause=\"{}\"", error);
  return producer_ != nullptr;
}

std::string DeadLetterProducer::send(const RdKafka::Message& source, const std::string& reason) {
  auto* headers = RdKafka::Headers::create();
  headers->add("reason", reason);
  headers->add("source_topic", source.topic_name());
  headers->add("source_partition", std::to_string(source.partition()));
  headers->add("source_offset", std::to_string(source.offset()));
  const uint64_t id = ++sequence_;
  reports_.clear();
  reports_.expect(id);
  const auto code =
      producer_->produce(topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                         const_cast<void*>(source.payload()), source.len(), source.key_pointer(),
                         source.key_len(), 0, headers, as_opaque(id));
  if (code != RdKafka::ERR_NO_ERROR) {
    delete headers;  // ownership passes to librdkafka only on success
    return RdKafka::err2str(code);
  }
  const auto deadline = std::chrono::steady_clock::now() + kDeliveryWait;
  while (reports_.outstanding() > 0 && std::chrono::steady_clock::now() < deadline) {
    producer_->poll(100);
  }
  if (reports_.delivered(id)) return "";
  return reports_.outstanding() > 0 ? "no delivery report" : reports_.last_error();
}

void DeadLetterProducer::flush(int timeout_ms) {
  if (producer_) producer_->flush(timeout_ms);
}

}  // namespace wallet::messaging
