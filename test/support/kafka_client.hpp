// Test-side Kafka access, independent of the services' own clients: produce raw messages (poison
// events included) and read a topic back with a consumer of its own (own group, manual assignment)
// so that tests observe what is really on the broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace RdKafka {
class KafkaConsumer;
}

namespace wallet::test {

struct KafkaRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Produces one message and waits for its delivery report. `partition` -1 lets the partitioner
// choose (by key). Returns an empty string on success, else the error.
std::string kafka_produce(const std::string& brokers, const std::string& topic,
                          const std::string& key, const std::string& value, int32_t partition = -1);

// Reads `topic` from its current end (messages produced after construction) or from its beginning.
class KafkaReader {
 public:
  enum class From { end, beginning };
  KafkaReader(const std::string& brokers, const std::string& topic, From from);
  ~KafkaReader();

  // The first record (from the start position on) for which `match` is true, within `timeout`.
  std::optional<KafkaRecord> find(const std::function<bool(const KafkaRecord&)>& match,
                                  std::chrono::milliseconds timeout);
  const std::string& error() const { return error_; }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string error_;
};

}  // namespace wallet::test
