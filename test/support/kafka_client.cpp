#include "test/support/kafka_client.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <thread>
#include <vector>

#include "domain/ids.hpp"

namespace wallet::test {
namespace {

struct LastReport : RdKafka::DeliveryReportCb {
  void dr_cb(RdKafka::Message& message) override {
    done = true;
    error = message.err() == RdKafka::ERR_NO_ERROR ? "" : message.errstr();
  }
  bool done = false;
  std::string error;
};

std::unique_ptr<RdKafka::Conf> conf_with(
    const std::vector<std::pair<std::string, std::string>>& settings, std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [name, value] : settings) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) return nullptr;
  }
  return conf;
}

}  // namespace

std::string kafka_produce(const std::string& brokers, const std::string& topic,
                          const std::string& key, const std::string& value, int32_t partition) {
  std::string error;
  LastReport report;
  auto conf = conf_with(
      {{"bootstrap.servers", brokers}, {"acks", "all"}, {"message.timeout.ms", "15000"}}, error);
  if (!conf || conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&report), error) !=
                   RdKafka::Conf::CONF_OK) {
    return error;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) return error;
  const auto code =
      producer->produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
                        RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                        value.size(), key.data(), key.size(), 0, nullptr);
  if (code != RdKafka::ERR_NO_ERROR) return RdKafka::err2str(code);
  producer->flush(20000);
  if (!report.done) return "no delivery report";
  return report.error;
}

KafkaReader::KafkaReader(const std::string& brokers, const std::string& topic, From from) {
  auto conf = conf_with({{"bootstrap.servers", brokers},
                         {"group.id", "wallet-test-" + domain::new_uuid_v4()},
                         {"enable.auto.commit", "false"},
                         {"enable.partition.eof", "false"}},
                        error_);
  if (!conf) return;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error_));
  if (!consumer_) return;
  // The topic may have just been created by a producer: wait for its partitions to be known.
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer_.get(), topic, nullptr, error_));
  std::vector<int32_t> partitions;
  for (int attempt = 0; attempt < 50 && partitions.empty(); ++attempt) {
    RdKafka::Metadata* metadata = nullptr;
    if (consumer_->metadata(false, handle.get(), &metadata, 2000) == RdKafka::ERR_NO_ERROR) {
      for (const auto* t : *metadata->topics()) {
        if (t->topic() != topic || t->err() != RdKafka::ERR_NO_ERROR) continue;
        for (const auto* p : *t->partitions()) partitions.push_back(p->id());
      }
    }
    delete metadata;
    if (partitions.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (partitions.empty()) {
    error_ = "topic " + topic + " has no partitions";
    return;
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int32_t p : partitions) {
    int64_t low = 0, high = 0;
    int64_t start = RdKafka::Topic::OFFSET_BEGINNING;
    if (from == From::end) {
      if (consumer_->query_watermark_offsets(topic, p, &low, &high, 5000) !=
          RdKafka::ERR_NO_ERROR) {
        error_ = "no watermarks for partition " + std::to_string(p);
      }
      start = high;
    }
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, start));
  }
  consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
}

KafkaReader::~KafkaReader() {
  if (consumer_) consumer_->close();
}

std::optional<KafkaRecord> KafkaReader::find(const std::function<bool(const KafkaRecord&)>& match,
                                             std::chrono::milliseconds timeout) {
  if (!consumer_) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(200));
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    KafkaRecord record;
    record.partition = message->partition();
    record.offset = message->offset();
    if (message->key()) record.key = *message->key();
    record.value.assign(static_cast<const char*>(message->payload()), message->len());
    if (auto* headers = message->headers()) {
      for (const auto& header : headers->get_all()) {
        record.headers[header.key()] =
            header.value()
                ? std::string(static_cast<const char*>(header.value()), header.value_size())
                : "";
      }
    }
    if (match(record)) return record;
  }
  return std::nullopt;
}

}  // namespace wallet::test
