// BalanceResponder: answers `wallet.balance.get` requests (queue group `transaction-service`). The
// cnats callback only decodes and hands the lookup to the ledger's actors; the reply is published
// from the lookup's callback, on whatever thread the answer arrives. Nothing here blocks.
#include "messaging/balance_responder.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"
#include "messaging/contract.hpp"
#include "messaging/nats_support.hpp"

namespace wallet::messaging {
namespace {

// What reply callbacks need; it outlives the responder, because a lookup may answer after stop().
struct ReplyChannel {
  ReplyPublisher out;
  std::atomic<uint64_t> received{0}, answered{0}, errors{0}, no_reply_to{0};

  void publish(const std::string& subject, const std::string& body, bool is_error) {
    if (out.publish(subject, body)) ++(is_error ? errors : answered);
  }
};

}  // namespace

struct BalanceResponder::Impl {
  Impl(const std::string& url, BalanceLookup fn, std::string subject_name)
      : lookup(std::move(fn)),
        subject(std::move(subject_name)),
        connection(url, "transaction-service.balance-responder") {}

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  void handle(std::string reply_to, std::string_view data);

  BalanceLookup lookup;
  std::string subject;
  std::shared_ptr<ReplyChannel> channel = std::make_shared<ReplyChannel>();
  NatsConnection connection;
  natsSubscription* subscription = nullptr;
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool subscription_done = false;
  bool subscribed = false;  // set once in the constructor
  std::atomic<bool> stopped{false};
};

void BalanceResponder::Impl::on_message(natsConnection*, natsSubscription*, natsMsg* msg,
                                        void* closure) {
  auto* impl = static_cast<Impl*>(closure);
  const char* reply = natsMsg_GetReply(msg);
  std::string reply_to = reply ? reply : "";
  std::string data(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "",
                   static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  try {
    impl->handle(std::move(reply_to), data);
  } catch (const std::exception& e) {
    spdlog::error("event=balance_request_failed cause=\"{}\"", e.what());
  }
}

void BalanceResponder::Impl::on_complete(void* closure) {
  auto* impl = static_cast<Impl*>(closure);
  std::lock_guard<std::mutex> lock(impl->done_mutex);
  impl->subscription_done = true;
  impl->done_cv.notify_all();
}

void BalanceResponder::Impl::handle(std::string reply_to, std::string_view data) {
  ++channel->received;
  if (reply_to.empty()) {
    ++channel->no_reply_to;  // a publish, not a request: nobody to answer
    return;
  }
  auto fail = [&](domain::ErrorCode code, const char* message) {
    channel->publish(reply_to, domain::error_body({code, message}), true);
  };
  auto object = domain::parse_flat_object(data);
  if (!object) return fail(domain::ErrorCode::invalid_json, "the request must be a JSON object");
  const auto* field = domain::find(*object, "user_id");
  std::optional<std::string> user_id;
  if (field && field->kind == domain::JsonScalar::Kind::string) {
    user_id = domain::normalize_uuid(field->text);
  }
  if (!user_id) return fail(domain::ErrorCode::invalid_user_id, "user_id must be a UUID");
  try {
    lookup(*user_id, [channel = channel, reply_to, id = *user_id](domain::Result<int64_t> balance) {
      if (!balance) return channel->publish(reply_to, domain::error_body(balance.error()), true);
      channel->publish(
          reply_to,
          nlohmann::json{{"user_id", id}, {"balance", domain::format_minor_units(*balance)}}.dump(),
          false);
    });
  } catch (const std::exception& e) {
    spdlog::error("event=balance_lookup_failed user_id={} cause=\"{}\"", *user_id, e.what());
    fail(domain::ErrorCode::internal, "internal error");
  }
}

BalanceResponder::BalanceResponder(caf::actor_system&, std::string nats_url, BalanceLookup lookup,
                                   std::string subject)
    : impl_(std::make_unique<Impl>(nats_url, std::move(lookup), std::move(subject))) {
  auto& impl = *impl_;
  natsConnection* conn = impl.connection.get();
  if (!conn) return;
  impl.channel->out.open(conn);
  // Subscribing works while still connecting: cnats sends the interest once connected, and again
  // after every reconnect.
  natsStatus s = natsConnection_QueueSubscribe(&impl.subscription, conn, impl.subject.c_str(),
                                               kBalanceQueueGroup, &Impl::on_message, &impl);
  if (s == NATS_OK)
    s = natsSubscription_SetOnCompleteCB(impl.subscription, &Impl::on_complete, &impl);
  if (s != NATS_OK) {
    spdlog::error("event=nats_subscribe_failed subject={} cause=\"{}\"", impl.subject,
                  natsStatus_GetText(s));
    if (impl.subscription) natsSubscription_Destroy(impl.subscription);
    impl.subscription = nullptr;
    return;
  }
  impl.subscribed = true;
  spdlog::info("event=balance_responder_started subject={} queue={}", impl.subject,
               kBalanceQueueGroup);
}

BalanceResponder::~BalanceResponder() { stop(); }

void BalanceResponder::stop() {
  auto& impl = *impl_;
  if (impl.stopped.exchange(true)) return;
  if (impl.subscription) {
    // After on_complete no callback runs any more, so `impl` may go away.
    natsSubscription_Unsubscribe(impl.subscription);
    std::unique_lock<std::mutex> lock(impl.done_mutex);
    if (!impl.done_cv.wait_for(lock, std::chrono::seconds(5),
                               [&] { return impl.subscription_done; })) {
      spdlog::warn("event=balance_responder_stop_timeout");
    }
    lock.unlock();
    natsSubscription_Destroy(impl.subscription);
    impl.subscription = nullptr;
  }
  { impl.channel->out.close(); }
  impl.connection.close();
  spdlog::info("event=balance_responder_stopped answered={} errors={}",
               impl.channel->answered.load(), impl.channel->errors.load());
}

bool BalanceResponder::healthy() const {
  return impl_->subscribed && !impl_->stopped && impl_->connection.connected();
}

nlohmann::json BalanceResponder::status() const {
  const auto& c = *impl_->channel;
  return {{"state", impl_->stopped ? "stopped" : impl_->connection.state()},
          {"subject", impl_->subject},
          {"queue_group", kBalanceQueueGroup},
          {"subscribed", impl_->subscribed && !impl_->stopped},
          {"counters",
           {{"received", c.received.load()},
            {"answered", c.answered.load()},
            {"error_replies", c.errors.load()},
            {"publish_failures", c.out.failures()},
            {"without_reply_subject", c.no_reply_to.load()}}}};
}

}  // namespace wallet::messaging
