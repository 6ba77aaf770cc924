#include "messaging/partition_ownership.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "messaging/kafka_support.hpp"

namespace wallet::messaging {
namespace {

constexpr int kPollMs = 100;
constexpr std::chrono::seconds kRetryTakeEvery{1};
constexpr std::chrono::seconds kStartWait{60};
// librdkafka's statistics carry the member's group state, which readiness waits for.
constexpr int kStatsIntervalMs = 500;
constexpr std::chrono::milliseconds kSettleMargin{500};
// Lease commits in flight at most (a coordinator that does not answer holds them).
constexpr size_t kMaxLeaseCommits = 4;

std::string list_text(const std::vector<int>& partitions) {
  std::string text;
  for (int p : partitions) text += (text.empty() ? "" : ",") + std::to_string(p);
  return text;
}

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

}  // namespace

struct PartitionOwnership::Impl : public RdKafka::RebalanceCb, public RdKafka::EventCb {
  using Clock = std::chrono::steady_clock;
  explicit Impl(PartitionOwnershipOptions o) : options(std::move(o)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& changed) override;
  // Statistics (the group state) are read here; everything else goes to the health tracker.
  void event_cb(RdKafka::Event& event) override;
  void run();
  void retry_takes();
  bool serving();
  // The read lease (see the header): a commit every session_timeout / 6, and their results.
  void renew_lease();
  void read_lease_results();

  PartitionOwnershipOptions options;
  BrokerHealth health{"partition-ownership"};
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> rebalances{0}, takes_failed{0};
  mutable std::mutex mutex;
  std::set<int> assigned;  // by the group
  std::set<int> untaken;   // assigned, but the take failed: retried
  std::chrono::steady_clock::time_point last_retry;
  // Readiness (guarded by `mutex`): the last rebalance callback, whether an assignment came, the
  // group state of the last statistics and when they came, and whether it has settled once.
  Clock::time_point last_rebalance = Clock::now();
  bool assignment_seen = false;
  std::string group_state, join_state;
  Clock::time_point stats_at;
  bool settled = false;
  Clock::time_point started_at = Clock::now();
  // The read lease (used by the polling thread only): commits in flight by their opaque number,
  // with the instant each was sent.
  rd_kafka_queue_t* lease_queue = nullptr;
  uintptr_t next_lease_commit = 1;
  std::map<uintptr_t, Clock::time_point> lease_commits;
  Clock::time_point last_lease_commit;
  bool lease_failing = false;
};

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

void PartitionOwnership::Impl::rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                                            std::vector<RdKafka::TopicPartition*>& changed) {
  std::vector<int> partitions;
  for (const auto* tp : changed) partitions.push_back(tp->partition());
  const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
  ++rebalances;
  {
    std::lock_guard<std::mutex> lock(mutex);
    last_rebalance = Impl::Clock::now();
  }
  RdKafka::Error* error = nullptr;
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    spdlog::info("event=ownership_assigned partitions=[{}] instance={}", list_text(partitions),
                 options.instance_id);
    error = cooperative ? c->incremental_assign(changed) : nullptr;
    if (!cooperative) c->assign(changed);
    const bool taken = options.take(partitions);
    std::lock_guard<std::mutex> lock(mutex);
    assignment_seen = true;
    last_rebalance = Impl::Clock::now();  // after the takes: the quiet time starts now
    for (int p : partitions) {
      assigned.insert(p);
      if (!taken) untaken.insert(p);
    }
    if (!taken) ++takes_failed;
  } else {
    spdlog::info("event=ownership_revoked partitions=[{}] lost={} instance={}",
                 list_text(partitions), c->assignment_lost(), options.instance_id);
    if (options.lease_broken) options.lease_broken(c->assignment_lost());
    // Drain and drop before acknowledging: the next owner takes them after this returns.
    options.give_up(partitions);
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (int p : partitions) {
        assigned.erase(p);
        untaken.erase(p);
      }
    }
    if (cooperative) {
      error = c->incremental_unassign(changed);
    } else {
      c->unassign();
    }
  }
  if (error) {
    spdlog::error("event=ownership_rebalance_failed cause=\"{}\"", error->str());
    delete error;
  }
}

void PartitionOwnership::Impl::retry_takes() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_retry < kRetryTakeEvery) return;
  last_retry = now;
  std::vector<int> retry;
  {
    std::lock_guard<std::mutex> lock(mutex);
    retry.assign(untaken.begin(), untaken.end());
  }
  if (retry.empty() || !options.take(retry)) return;
  std::lock_guard<std::mutex> lock(mutex);
  for (int p : retry) untaken.erase(p);
}

void PartitionOwnership::Impl::renew_lease() {
  if (!options.lease_renewed) return;
  const auto now = Clock::now();
  if (now - last_lease_commit < options.session_timeout / 6) return;
  if (lease_commits.size() >= kMaxLeaseCommits) return;
  std::vector<int> held;
  {
    std::lock_guard<std::mutex> lock(mutex);
    held.assign(assigned.begin(), assigned.end());
  }
  if (held.empty()) return;  // nothing held: nothing read from memory
  last_lease_commit = now;
  rd_kafka_topic_partition_list_t* offsets =
      rd_kafka_topic_partition_list_new(static_cast<int>(held.size()));
  for (int p : held) {
    rd_kafka_topic_partition_list_add(offsets, options.topic.c_str(), p)->offset = 0;
  }
  const uintptr_t number = next_lease_commit++;
  // With a queue, the result comes back as an event on it (the callback is not called).
  const auto error = rd_kafka_commit_queue(
      consumer->c_ptr(), offsets, lease_queue,
      [](rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*) {},
      reinterpret_cast<void*>(number));
  rd_kafka_topic_partition_list_destroy(offsets);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) lease_commits.emplace(number, now);
}

void PartitionOwnership::Impl::read_lease_results() {
  while (rd_kafka_event_t* event = rd_kafka_queue_poll(lease_queue, 0)) {
    if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
      const auto number = reinterpret_cast<uintptr_t>(rd_kafka_event_opaque(event));
      auto error = rd_kafka_event_error(event);
      if (const auto* offsets = rd_kafka_event_topic_partition_list(event)) {
        for (int i = 0; i < offsets->cnt && !error; ++i) error = offsets->elems[i].err;
      }
      auto sent = lease_commits.find(number);
      if (sent != lease_commits.end()) {
        if (!error) {
          options.lease_renewed(sent->second + options.session_timeout * 3 / 4);
        } else if (!lease_failing) {
          spdlog::warn("event=ownership_lease_not_renewed instance={} cause=\"{}\"",
                       options.instance_id, rd_kafka_err2str(error));
        }
        if (lease_failing && !error) {
          spdlog::info("event=ownership_lease_renewed instance={}", options.instance_id);
        }
        lease_failing = error != RD_KAFKA_RESP_ERR_NO_ERROR;
        lease_commits.erase(sent);
      }
    }
    rd_kafka_event_destroy(event);
  }
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
  // Kafka may still be starting (or restarting): wait up to kStartWait for it to answer.
  int count = partition_count(*impl_->consumer, o.topic);
  const auto until = std::chrono::steady_clock::now() + kStartWait;
  while (count < 0 && std::chrono::steady_clock::now() < until) {
    spdlog::warn("event=ownership_waiting_for_kafka topic={}", o.topic);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    count = partition_count(*impl_->consumer, o.topic);
  }
  if (count == 0) {
    create_topic(*impl_->consumer, o.topic, o.partitions, o.replication);
    count = partition_count(*impl_->consumer, o.topic);
    // A topic just created (here, or by an instance starting beside this one) may show no
    // partitions in the metadata for a moment: that is not yet a count to compare.
    const auto created_until = std::chrono::steady_clock::now() + kStartWait;
    while (count <= 0 && std::chrono::steady_clock::now() < created_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      count = partition_count(*impl_->consumer, o.topic);
    }
  }
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
