// A poison event on `user-created` goes to `user-created.dlq` with its reason, and an event behind
// it on the same partition is still processed: poison never blocks a partition.
#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/kafka_client.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

TEST(DeadLetterTest, PoisonEventLandsInTheDlqAndTheNextEventIsStillProcessed) {
  HttpClient ledger(transaction_service_url());
  KafkaReader dlq(kafka_brokers(), "user-created.dlq", KafkaReader::From::end);
  ASSERT_EQ(dlq.error(), "");

  const std::string poison_key = "poison-" + domain::new_uuid_v4();
  const std::string poison_value = "{\"user_id\": not json";
  const std::string valid_id = domain::new_uuid_v4();
  const std::string valid_value = nlohmann::json{
      {"user_id", valid_id},
      {"email", unique_email("after-poison")},
      {"created_at", "2024-05-01T12:00:00.000000Z"},
      {"event_id",
       domain::new_uuid_v4()}}.dump();
  // Same partition, poison first: the valid event can only be reached past the poison.
  ASSERT_EQ(kafka_produce(kafka_brokers(), "user-created", poison_key, poison_value, 0), "");
  ASSERT_EQ(kafka_produce(kafka_brokers(), "user-created", valid_id, valid_value, 0), "");

  auto dead = dlq.find([&](const KafkaRecord& r) { return r.key == poison_key; }, 30s);
  ASSERT_TRUE(dead) << "the poison event did not reach user-created.dlq";
  EXPECT_EQ(dead->value, poison_value);
  EXPECT_FALSE(dead->headers["reason"].empty());
  EXPECT_EQ(dead->headers["source_topic"], "user-created");
  EXPECT_EQ(dead->headers["source_partition"], "0");

  ASSERT_TRUE(wait_for_account(ledger, valid_id, 30s)) << "the event after the poison was skipped";
  auto balance = ledger.get("/users/" + valid_id + "/balance");
  EXPECT_EQ(balance.json()["balance"], "0.00");
}

}  // namespace
}  // namespace wallet::test
