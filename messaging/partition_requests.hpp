// PartitionRequests (beyond one machine, SPEC.md section 7): money requests travel to the owner of
// their account's partition over NATS request/reply. The owner subscribes `<prefix>.p<partition>`
// (queue group `owners`) for every partition it serves; any instance sends a request for a
// partition it does not serve there and relays the owner's answer. While a partition moves
// nobody may be subscribed (no responders: the caller answers a retryable 503). The payloads are
// opaque here: http/forwarding encodes requests and answers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "messaging/nats_requester.hpp"
#include "messaging/nats_support.hpp"

namespace wallet::messaging {

class PartitionRequests {
 public:
  // Serves one request: `reply` must be called once with the answer's payload (on any thread).
  using Serve = std::function<void(std::string payload, std::function<void(std::string)> reply)>;

  // `requester.url` is the NATS server; its timeout bounds a forwarded request's wait.
  PartitionRequests(std::string prefix, Serve serve, NatsRequesterOptions requester);
  ~PartitionRequests();
  PartitionRequests(const PartitionRequests&) = delete;
  PartitionRequests& operator=(const PartitionRequests&) = delete;

  void serve(int partition);
  // Stops serving `partitions`; returns once the requests already routed here for them have been
  // handed to `serve` (bounded), so none is left unanswered.
  void stop_serving(const std::vector<int>& partitions);
  // Sends `payload` to the owner of `partition`; `done` gets its answer's payload or the failure
  // (unavailable: no owner subscribed or NATS down; upstream_timeout: no answer in time).
  // `within`: this request's wait, when shorter than the requester's timeout.
  void forward(int partition, std::string payload,
               std::function<void(domain::Result<std::string>)> done,
               std::optional<std::chrono::milliseconds> within = std::nullopt);
  std::string subject(int partition) const;
  bool healthy() const;
  nlohmann::json status() const;
  void stop();

 private:
  struct Channel;
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  void close_subscriptions(const std::map<int, natsSubscription*>& closing) const;

  const std::string prefix_;
  Serve serve_;
  NatsConnection connection_;
  std::shared_ptr<Channel> channel_;
  NatsRequester requester_;
  mutable std::mutex mutex_;
  std::map<int, natsSubscription*> subscriptions_;
  bool stopped_ = false;
};

}  // namespace wallet::messaging
