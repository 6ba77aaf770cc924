// NatsRequester: user-service's side of NATS request/reply. The blocking natsConnection_Request
// runs on a small worker pool, never on the caller's (reactor) thread, and its failure becomes the
// contract's error: not connected, no responders, overloaded or stopping (the request was not
// delivered) -> unavailable (503); a timeout, or a connection that failed while the request was out
// (it may have been delivered) -> upstream_timeout (504).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/result.hpp"
#include "messaging/nats_support.hpp"
#include "runtime/worker_pool.hpp"

namespace wallet::messaging {

struct NatsRequesterOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::chrono::milliseconds timeout{2000};  // from submission, queueing included
  int threads = 8;
  size_t max_queue = 1024;
  // Called once per request with its outcome (ok, timeout, no_responders, not_connected, error,
  // overloaded, stopping) and its latency; for metrics. Must not block.
  std::function<void(const std::string& outcome, std::chrono::microseconds)> on_result;
};

class NatsRequester {
 public:
  explicit NatsRequester(NatsRequesterOptions options);
  ~NatsRequester();

  // Sends `payload` to `subject` and hands the reply's data, or the classified failure, to `done`
  // (on a pool thread, or at once on the caller's thread when the pool refuses). Exactly once.
  // `within` (when shorter than the options' timeout) bounds this request's wait instead.
  void request(std::string subject, std::string payload,
               std::function<void(domain::Result<std::string>)> done,
               std::optional<std::chrono::milliseconds> within = std::nullopt);

  bool healthy() const;  // connected to NATS
  nlohmann::json status() const;
  void stop();

 private:
  struct Counters;
  void finish(const std::string& outcome, std::chrono::steady_clock::time_point started);

  const NatsRequesterOptions options_;
  NatsConnection connection_;
  std::unique_ptr<Counters> counters_;
  runtime::WorkerPool pool_;
  std::atomic<bool> stopped_{false};
};

}  // namespace wallet::messaging
