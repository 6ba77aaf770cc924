// The real brokers, reached the way the bridges reach them: one Kafka message produced and read
// back on a topic of its own, and NATS request/reply through the NatsRequester with its failure
// mapping (no responders -> unavailable, silence -> upstream_timeout).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "domain/ids.hpp"
#include "messaging/nats_requester.hpp"
#include "messaging/nats_support.hpp"
#include "test/support/awaited_reply.hpp"
#include "test/support/environment.hpp"
#include "test/support/kafka_client.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

TEST(KafkaTest, ProducedMessageIsConsumedBack) {
  const std::string topic = "wallet-it-" + domain::new_uuid_v4();
  const std::string key = domain::new_uuid_v4();
  ASSERT_EQ(kafka_produce(kafka_brokers(), topic, key, R"({"hello":"kafka"})"), "");
  KafkaReader reader(kafka_brokers(), topic, KafkaReader::From::beginning);
  ASSERT_EQ(reader.error(), "");
  auto record = reader.find([&](const KafkaRecord& r) { return r.key == key; }, 20s);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->value, R"({"hello":"kafka"})");
}

// Answers every request on `subject` with "echo:<data>", or never when `silent`.
class EchoResponder {
 public:
  EchoResponder(const std::string& subject, bool silent)
      : connection_(nats_url(), "integration-test.responder"), silent_(silent) {
    natsConnection_Subscribe(&subscription_, connection_.get(), subject.c_str(), &on_message, this);
    natsConnection_Flush(connection_.get());  // the interest is registered before requests start
  }
  ~EchoResponder() {
    natsSubscription_Unsubscribe(subscription_);
    natsSubscription_Destroy(subscription_);
  }

 private:
  static void on_message(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<EchoResponder*>(closure);
    if (!self->silent_ && natsMsg_GetReply(msg)) {
      std::string body = "echo:" + std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      natsConnection_Publish(nc, natsMsg_GetReply(msg), body.data(), static_cast<int>(body.size()));
    }
    natsMsg_Destroy(msg);
  }

  messaging::NatsConnection connection_;
  bool silent_;
  natsSubscription* subscription_ = nullptr;
};

using Answer = AwaitedReply<domain::Result<std::string>>;

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    messaging::NatsRequesterOptions options;
    options.url = nats_url();
    options.timeout = 500ms;
    options.threads = 2;
    requester_ = std::make_unique<messaging::NatsRequester>(options);
    for (int i = 0; i < 100 && !requester_->healthy(); ++i) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(requester_->healthy());
  }

  std::string subject_ = "wallet.it." + domain::new_uuid_v4();
  std::unique_ptr<messaging::NatsRequester> requester_;
};

TEST_F(NatsTest, RequesterGetsTheResponderReply) {
  EchoResponder responder(subject_, false);
  Answer answer;
  requester_->request(subject_, "ping", answer.callback());
  auto reply = answer.get();
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(*reply, "echo:ping");
  EXPECT_EQ(requester_->status()["outcomes"]["ok"], 1);
}

TEST_F(NatsTest, RequestWithoutRespondersIsUnavailableAtOnce) {
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  requester_->request(subject_, "ping", answer.callback());
  auto reply = answer.get();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, domain::ErrorCode::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 400ms);  // not the 500 ms timeout
}

TEST_F(NatsTest, SilentResponderIsUpstreamTimeout) {
  EchoResponder responder(subject_, true);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  requester_->request(subject_, "ping", answer.callback());
  auto reply = answer.get();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, domain::ErrorCode::upstream_timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 450ms);
}

TEST(NatsRequesterTest, UnreachableServerIsUnavailableWithoutWaitingForTheTimeout) {
  messaging::NatsRequesterOptions options;
  options.url = "nats://127.0.0.1:1";  // nothing listens there
  options.timeout = 2000ms;
  messaging::NatsRequester requester(options);
  EXPECT_FALSE(requester.healthy());
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  requester.request("wallet.balance.get", "{}", answer.callback());
  auto reply = answer.get();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, domain::ErrorCode::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
}

}  // namespace
}  // namespace wallet::test
