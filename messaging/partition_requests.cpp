#include "messaging/partition_requests.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

namespace wallet::messaging {
namespace {

constexpr const char* kOwnersQueue = "owners";
// Bounds how long giving up a partition waits for the requests already routed to it.
constexpr int64_t kDrainTimeoutMs = 5'000;

}  // namespace

// What answers need; it outlives the subscriptions, because an answer may come after stop().
struct PartitionRequests::Channel {
  ReplyPublisher out;
  std::atomic<uint64_t> served{0}, forwarded{0};
};

PartitionRequests::PartitionRequests(std::string prefix, Serve serve,
                                     NatsRequesterOptions requester)
    : prefix_(std::move(prefix)),
      serve_(std::move(serve)),
      connection_(requester.url, "transaction-service.partition-requests"),
      channel_(std::make_shared<Channel>()),
      requester_(std::move(requester)) {
  channel_->out.open(connection_.get());
}

PartitionRequests::~PartitionRequests() { stop(); }

std::string PartitionRequests::subject(int partition) const {
  return prefix_ + ".p" + std::to_string(partition);
}

void PartitionRequests::on_message(natsConnection*, natsSubscription*, natsMsg* msg,
                                   void* closure) {
  auto* self = static_cast<PartitionRequests*>(closure);
  const char* reply = natsMsg_GetReply(msg);
  std::string reply_to = reply ? reply : "";
  std::string data(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "",
                   static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  if (reply_to.empty()) return;  // a publish, not a request: nobody to answer
  ++self->channel_->served;
  try {
    self->serve_(std::move(data), [channel = self->channel_, reply_to](std::string answer) {
      channel->out.publish(reply_to, answer);
    });
  } catch (const std::exception& e) {
    spdlog::error("event=partition_request_failed cause=\"{}\"", e.what());
  }
}

void PartitionRequests::serve(int partition) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ || !connection_.get() || subscriptions_.count(partition) > 0) return;
  natsSubscription* subscription = nullptr;
  const std::string name = subject(partition);
  const natsStatus s = natsConnection_QueueSubscribe(&subscription, connection_.get(), name.c_str(),
                                                     kOwnersQueue, &on_message, this);
  if (s != NATS_OK) {
    spdlog::error("event=nats_subscribe_failed subject={} cause=\"{}\"", name,
                  natsStatus_GetText(s));
    if (subscription) natsSubscription_Destroy(subscription);
    return;
  }
  subscriptions_[partition] = subscription;
  // Until the server has the interest, requests for the partition find no responder: wait for it
  // (bounded; on the ownership thread).
  natsConnection_FlushTimeout(connection_.get(), 2'000);
  spdlog::info("event=partition_serving subject={}", name);
}

void PartitionRequests::stop_serving(const std::vector<int>& partitions) {
  std::map<int, natsSubscription*> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int partition : partitions) {
      auto it = subscriptions_.find(partition);
      if (it == subscriptions_.end()) continue;
      closing.insert(*it);
      subscriptions_.erase(it);
    }
  }
  close_subscriptions(closing);
}

// Drains rather than unsubscribes: requests the server has already routed here wait in the
// subscriptions' queues, and unsubscribing would drop them unanswered (their callers would wait
// their whole timeout, then answer 504). Draining removes the interest and still delivers them:
// served while this instance holds the partition, or answered partition_moved once it has left.
// Every drain starts before the first is waited for, so giving up several partitions costs one
// wait, not one per partition.
void PartitionRequests::close_subscriptions(const std::map<int, natsSubscription*>& closing) const {
  std::vector<natsStatus> drains;
  for (const auto& [partition, subscription] : closing) {
    drains.push_back(natsSubscription_DrainTimeout(subscription, kDrainTimeoutMs));
  }
  auto drain = drains.begin();
  for (const auto& [partition, subscription] : closing) {
    natsStatus s = *drain++;
    if (s == NATS_OK) {
      s = natsSubscription_WaitForDrainCompletion(subscription, kDrainTimeoutMs + 1'000);
    }
    if (s == NATS_OK) s = natsSubscription_DrainCompletionStatus(subscription);
    if (s != NATS_OK) {
      spdlog::warn("event=nats_drain_failed subject={} cause=\"{}\"", subject(partition),
                   natsStatus_GetText(s));
      natsSubscription_Unsubscribe(subscription);
    }
    natsSubscription_Destroy(subscription);
    spdlog::info("event=partition_not_serving subject={}", subject(partition));
  }
}

void PartitionRequests::forward(int partition, std::string payload,
                                std::function<void(domain::Result<std::string>)> done,
                                std::optional<std::chrono::milliseconds> within) {
  ++channel_->forwarded;
  requester_.request(subject(partition), std::move(payload), std::move(done), within);
}

bool PartitionRequests::healthy() const { return connection_.connected() && requester_.healthy(); }

nlohmann::json PartitionRequests::status() const {
  std::vector<int> serving;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [partition, subscription] : subscriptions_) serving.push_back(partition);
  }
  return {{"prefix", prefix_},
          {"state", connection_.state()},
          {"serving", serving},
          {"served", channel_->served.load()},
          {"forwarded", channel_->forwarded.load()},
          {"publish_failures", channel_->out.failures()},
          {"requester", requester_.status()}};
}

void PartitionRequests::stop() {
  std::map<int, natsSubscription*> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    closing.swap(subscriptions_);
  }
  close_subscriptions(closing);
  requester_.stop();
  channel_->out.close();
  connection_.close();
}

}  // namespace wallet::messaging
