// PartitionRequests over the stack's NATS: an owner that stops serving a partition while requests
// for it are already on their way answers every one of them (served, or refused at once as "no
// responders"); none waits out its timeout. Found by the three-instance stress run: two transfers
// forwarded at the instant their partition moved got 504 after 15 s, because unsubscribing dropped
// the requests queued in the subscription.
#include "messaging/partition_requests.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "domain/ids.hpp"
#include "test/support/awaited_reply.hpp"
#include "test/support/environment.hpp"
#include "test/support/eventually.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

messaging::NatsRequesterOptions requester_options(std::chrono::milliseconds timeout) {
  messaging::NatsRequesterOptions options;
  options.url = nats_url();
  options.timeout = timeout;
  options.threads = 16;
  return options;
}

TEST(PartitionRequestsTest, StoppingToServeAnswersTheRequestsAlreadyRoutedHere) {
  const std::string prefix = "test.partition-requests." + domain::new_uuid_v4();
  std::atomic<int> served{0};
  // The owner answers slowly, on NATS's delivery thread, so requests queue in its subscription.
  messaging::PartitionRequests owner(
      prefix,
      [&served](std::string payload, std::function<void(std::string)> reply) {
        std::this_thread::sleep_for(40ms);
        ++served;
        reply("served " + payload);
      },
      requester_options(2s));
  messaging::PartitionRequests caller(
      prefix, [](std::string, std::function<void(std::string)>) {}, requester_options(3s));
  ASSERT_TRUE(eventually([&] { return owner.healthy() && caller.healthy(); }, 10s));
  owner.serve(0);
  owner.serve(1);

  constexpr int kRequests = 16;
  std::vector<AwaitedReply<domain::Result<std::string>>> replies(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    caller.forward(i % 2, std::to_string(i), replies[i].callback());
  }
  // Let a few be answered and the rest pile up in the owner's subscriptions, then give both
  // partitions up at once.
  ASSERT_TRUE(eventually([&] { return served.load() >= 2; }, 5s));
  const int served_before = served.load();
  owner.stop_serving({0, 1});
  EXPECT_LT(served_before, kRequests) << "nothing was left queued: the test proves nothing";

  int answered = 0, refused = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto reply = replies[i].get();
    if (reply) {
      EXPECT_EQ(reply.value(), "served " + std::to_string(i));
      ++answered;
    } else {
      EXPECT_EQ(reply.error().code, domain::ErrorCode::unavailable)
          << "request " << i << " was left unanswered: " << reply.error().message;
      ++refused;
    }
  }
  EXPECT_EQ(answered, served.load());
  EXPECT_EQ(answered + refused, kRequests);
  // Once it has stopped, a request finds no responder and is refused at once.
  for (int partition : {0, 1}) {
    AwaitedReply<domain::Result<std::string>> late;
    const auto sent = std::chrono::steady_clock::now();
    caller.forward(partition, "late", late.callback());
    auto reply = late.get();
    ASSERT_FALSE(reply) << "partition " << partition;
    EXPECT_EQ(reply.error().code, domain::ErrorCode::unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 1s);
  }
}

}  // namespace
}  // namespace wallet::test
