// PartitionOwnership's lifecycle: the ownership topic checked (created when missing), the group
// joined, the polling thread started and stopped, and what /admin shows of it (the rebalance
// callbacks: partition_rebalance.cpp; the read lease: partition_lease.cpp).
#include "messaging/partition_ownership.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "messaging/kafka_support.hpp"
#include "messaging/partition_ownership_internal.hpp"

namespace wallet::messaging {

using namespace ownership_internal;

namespace ownership_internal {

std::string list_text(const std::vector<int>& partitions) {
  std::string text;
  for (int p : partitions) text += (text.empty() ? "" : ",") + std::to_string(p);
  return text;
}

}  // namespace ownership_internal

namespace {

// The topic's partition count from broker metadata; 0 when it does not exist, -1 when unknown.
int partition_count(RdKafka::Handle& handle, const std::string& topic_name) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> topic(
      RdKafka::Topic::create(&handle, topic_name, nullptr, error));
  if (!topic) return -1;
  RdKafka::Metadata* raw = nullptr;
  if (handle.metadata(false, topic.get(), &raw, 5000) != RdKafka::ERR_NO_ERROR) return -1;
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != topic_name) continue;
    if (t->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    if (t->err() != RdKafka::ERR_NO_ERROR) return -1;
    return static_cast<int>(t->partitions()->size());
  }
  return 0;
}

// Creates the topic through the admin API of the consumer's handle; true when it exists after.
bool create_topic(RdKafka::Handle& handle, const std::string& name, int partitions,
                  int replication) {
  rd_kafka_t* rk = handle.c_ptr();
  char error[512];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(name.c_str(), partitions, replication, error, sizeof error);
  if (!topic) {
    spdlog::error("event=ownership_topic_create_failed cause=\"{}\"", error);
    return false;
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15'000);
  bool ok = false;
  if (event) {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        result ? rd_kafka_CreateTopics_result_topics(result, &count) : nullptr;
    if (results && count == 1) {
      const auto code = rd_kafka_topic_result_error(results[0]);
      ok = code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
      if (!ok) {
        spdlog::error("event=ownership_topic_create_failed topic={} cause=\"{}\"", name,
                      rd_kafka_err2str(code));
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  return ok;
}

// The topic's partition count once Kafka answers (waiting up to kStartWait while it starts); the
// topic is created when it does not exist. -1: unknown.
int topic_partition_count(RdKafka::Handle& handle, const PartitionOwnershipOptions& o) {
  // Kafka may still be starting (or restarting): wait up to kStartWait for it to answer.
  int count = partition_count(handle, o.topic);
  const auto until = std::chrono::steady_clock::now() + kStartWait;
  while (count < 0 && std::chrono::steady_clock::now() < until) {
    spdlog::warn("event=ownership_waiting_for_kafka topic={}", o.topic);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    count = partition_count(handle, o.topic);
  }
  if (count == 0) {
    create_topic(handle, o.topic, o.partitions, o.replication);
    count = partition_count(handle, o.topic);
    // A topic just created (here, or by an instance starting beside this one) may show no
    // partitions in the metadata for a moment: that is not yet a count to compare.
    const auto created_until = std::chrono::steady_clock::now() + kStartWait;
    while (count <= 0 && std::chrono::steady_clock::now() < created_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      count = partition_count(handle, o.topic);
    }
  }
  return count;
}

}  // namespace

void PartitionOwnership::Impl::event_cb(RdKafka::Event& event) {
  if (event.type() != RdKafka::Event::EVENT_STATS) {
    health.event_cb(event);
    return;
  }
  auto stats = nlohmann::json::parse(event.str(), nullptr, false);
  if (stats.is_discarded() || !stats.contains("cgrp")) return;
  const auto& group = stats["cgrp"];
  std::lock_guard<std::mutex> lock(mutex);
  group_state = group.value("state", std::string());
  join_state = group.value("join_state", std::string());
  stats_at = Clock::now();
}

bool PartitionOwnership::Impl::serving() {
  std::lock_guard<std::mutex> lock(mutex);
  if (!untaken.empty()) return false;
  if (settled) return true;
  const auto now = Clock::now();
  // The statistics must be from after the last rebalance: they describe the state it left.
  if (!assignment_seen || group_state != "up" || join_state != "steady" ||
      stats_at <= last_rebalance || now - last_rebalance < options.settle_quiet) {
    return false;
  }
  settled = true;
  spdlog::info("event=ownership_settled partitions=[{}] instance={} after_ms={}",
               list_text(std::vector<int>(assigned.begin(), assigned.end())), options.instance_id,
               std::chrono::duration_cast<std::chrono::milliseconds>(now - started_at).count());
  return true;
}

void PartitionOwnership::Impl::run() {
  lease_queue = rd_kafka_queue_new(consumer->c_ptr());
  while (!stopping.load()) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(kPollMs));
    health.probe(*consumer, std::chrono::seconds(5), 2000);
    retry_takes();
    read_lease_results();
    renew_lease();
  }
  // Closing revokes everything through rebalance_cb (drained there). A static member does not
  // leave the group on close: its partitions wait for it for the session timeout, then move.
  consumer->close();
  rd_kafka_queue_destroy(lease_queue);
}

PartitionOwnership::PartitionOwnership(PartitionOwnershipOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

PartitionOwnership::~PartitionOwnership() { stop(); }

bool PartitionOwnership::start() {
  auto& o = impl_->options;
  auto settings = base_kafka_settings(o.brokers, "transaction-service.ownership");
  settings.insert(settings.end(),
                  {{"group.id", o.group},
                   {"group.instance.id", o.instance_id},
                   {"partition.assignment.strategy", "cooperative-sticky"},
                   {"session.timeout.ms", std::to_string(o.session_timeout.count())},
                   {"heartbeat.interval.ms", std::to_string(o.session_timeout.count() / 4)},
                   {"enable.auto.commit", "false"},
                   {"statistics.interval.ms", std::to_string(kStatsIntervalMs)},
                   {"allow.auto.create.topics", "false"}});
  if (o.settle_quiet.count() == 0) o.settle_quiet = o.session_timeout / 4 + kSettleMargin;
  auto conf = make_kafka_conf(settings);
  if (!conf) {
    spdlog::critical("event=ownership_config_failed cause=\"{}\"", conf.error().message);
    return false;
  }
  std::string error;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl_.get()), error) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(impl_.get()), error) !=
          RdKafka::Conf::CONF_OK) {
    spdlog::critical("event=ownership_config_failed cause=\"{}\"", error);
    return false;
  }
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!impl_->consumer) {
    spdlog::critical("event=ownership_consumer_failed cause=\"{}\"", error);
    return false;
  }
  const int count = topic_partition_count(*impl_->consumer, o);
  if (count != o.partitions) {
    spdlog::critical(
        "event=ownership_topic_mismatch topic={} partitions={} expected={} (-1: unknown)", o.topic,
        count, o.partitions);
    return false;
  }
  if (impl_->consumer->subscribe({o.topic}) != RdKafka::ERR_NO_ERROR) {
    spdlog::critical("event=ownership_subscribe_failed topic={}", o.topic);
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->started_at = Impl::Clock::now();
  }
  spdlog::info("event=ownership_started topic={} group={} instance={} partitions={}", o.topic,
               o.group, o.instance_id, o.partitions);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
  return true;
}

void PartitionOwnership::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool PartitionOwnership::healthy() const { return impl_->health.healthy(std::chrono::seconds(15)); }

bool PartitionOwnership::serving() const { return impl_->serving(); }

nlohmann::json PartitionOwnership::status() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {{"topic", impl_->options.topic},
          {"group", impl_->options.group},
          {"instance", impl_->options.instance_id},
          {"assigned", std::vector<int>(impl_->assigned.begin(), impl_->assigned.end())},
          {"untaken", std::vector<int>(impl_->untaken.begin(), impl_->untaken.end())},
          {"rebalances", impl_->rebalances.load()},
          {"settled", impl_->settled},
          {"group_state", impl_->group_state},
          {"join_state", impl_->join_state},
          {"takes_failed", impl_->takes_failed.load()}};
}

}  // namespace wallet::messaging
