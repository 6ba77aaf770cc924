#include "messaging/nats_requester.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <mutex>

namespace wallet::messaging {

struct NatsRequester::Counters {
  std::mutex mutex;
  std::map<std::string, uint64_t> by_outcome;
};

NatsRequester::NatsRequester(NatsRequesterOptions options)
    : options_(std::move(options)),
      connection_(options_.url, "user-service.requester"),
      counters_(std::make_unique<Counters>()),
      pool_(options_.threads, options_.max_queue) {}

NatsRequester::~NatsRequester() { stop(); }

void NatsRequester::stop() {
  if (stopped_.exchange(true)) return;
  pool_.stop();  // requests in flight finish (bounded by the timeout); queued ones are refused
  connection_.close();
}

void NatsRequester::finish(const std::string& outcome,
                           std::chrono::steady_clock::time_point started) {
  {
    std::lock_guard<std::mutex> lock(counters_->mutex);
    ++counters_->by_outcome[outcome];
  }
  if (options_.on_result) {
    options_.on_result(outcome, std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - started));
  }
}

void NatsRequester::request(std::string subject, std::string payload,
                            std::function<void(domain::Result<std::string>)> done,
                            std::optional<std::chrono::milliseconds> within) {
  using domain::Error;
  using domain::ErrorCode;
  const auto started = std::chrono::steady_clock::now();
  auto shared_done =
      std::make_shared<std::function<void(domain::Result<std::string>)>>(std::move(done));
  const auto timeout = within ? std::min(*within, options_.timeout) : options_.timeout;
  auto run = [this, subject = std::move(subject), payload = std::move(payload), shared_done,
              started, timeout] {
    auto& answer = *shared_done;
    // Not connected: answer at once instead of queueing the request in the reconnect buffer
    // until it times out.
    if (!connection_.connected()) {
      finish("not_connected", started);
      return answer(Error{ErrorCode::unavailable, "the balance service is unreachable"});
    }
    const auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - started);
    if (left.count() <= 0) {
      finish("timeout", started);
      return answer(
          Error{ErrorCode::upstream_timeout, "the balance service did not answer in time"});
    }
    natsMsg* reply = nullptr;
    const natsStatus s =
        natsConnection_Request(&reply, connection_.get(), subject.c_str(), payload.data(),
                               static_cast<int>(payload.size()), left.count());
    switch (s) {
      case NATS_OK: {
        std::string data(natsMsg_GetData(reply) ? natsMsg_GetData(reply) : "",
                         static_cast<size_t>(natsMsg_GetDataLength(reply)));
        natsMsg_Destroy(reply);
        finish("ok", started);
        return answer(std::move(data));
      }
      case NATS_TIMEOUT:
        finish("timeout", started);
        return answer(
            Error{ErrorCode::upstream_timeout, "the balance service did not answer in time"});
      case NATS_NO_RESPONDERS:
        finish("no_responders", started);
        return answer(Error{ErrorCode::unavailable, "no balance service instance is running"});
      default:
        // Disconnected mid-request, connection closed, ...: the request may have reached a
        // responder before the failure (a money request forwarded to its owner may still commit),
        // so this is "no answer", like a timeout, never "unavailable" (which says it was not sent).
        spdlog::warn("event=nats_request_failed subject={} cause=\"{}\"", subject,
                     natsStatus_GetText(s));
        finish("error", started);
        return answer(Error{ErrorCode::upstream_timeout,
                            "the connection failed while the request was out: no answer"});
    }
  };
  auto cancel = [this, shared_done, started] {
    finish("stopping", started);
    (*shared_done)(Error{ErrorCode::unavailable, "the service is stopping"});
  };
  if (!pool_.submit(std::move(run), std::move(cancel))) {
    const bool stopping = stopped_.load();
    finish(stopping ? "stopping" : "overloaded", started);
    (*shared_done)(Error{ErrorCode::unavailable, stopping ? "the service is stopping"
                                                          : "too many balance requests in flight"});
  }
}

bool NatsRequester::healthy() const { return !stopped_ && connection_.connected(); }

nlohmann::json NatsRequester::status() const {
  nlohmann::json outcomes = nlohmann::json::object();
  {
    std::lock_guard<std::mutex> lock(counters_->mutex);
    for (const auto& [outcome, count] : counters_->by_outcome) outcomes[outcome] = count;
  }
  return {{"state", stopped_ ? "stopped" : connection_.state()},
          {"timeout_ms", options_.timeout.count()},
          {"queued", pool_.queued()},
          {"outcomes", outcomes}};
}

}  // namespace wallet::messaging
