// The user-service -> Kafka -> transaction-service -> NATS -> user-service loop as a client sees
// it: a created user gets an account, money added there is the balance user-service reports, the
// `user-created` event on the broker has the contract's payload, concurrent creates of one email
// give one user, and the balance responder answers the contract's errors.
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "messaging/contract.hpp"
#include "messaging/nats_requester.hpp"
#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/awaited_reply.hpp"
#include "test/support/kafka_client.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

class ProvisioningTest : public ::testing::Test {
 protected:
  HttpClient users_{user_service_url()};
  HttpClient ledger_{transaction_service_url()};
};

TEST_F(ProvisioningTest, CreatedUserGetsAnAccountAndItsBalanceTravelsBackOverNats) {
  const auto email = unique_email("flow");
  auto created = create_user(users_, "  " + email.substr(0, 4) + "UPPER" + email.substr(4) + " ");
  ASSERT_EQ(created.status, 201) << created.body;
  auto user = created.json();
  const std::string id = user["user_id"];
  const std::string stored_email = user["email"];
  EXPECT_TRUE(domain::is_uuid(id));
  EXPECT_EQ(stored_email, email.substr(0, 4) + "upper" + email.substr(4));  // trimmed, lower-cased
  EXPECT_TRUE(user["created_at"].is_string());

  ASSERT_TRUE(wait_for_account(ledger_, id, 10s)) << "no account for " << id << " within 10 s";
  auto zero = get_balance(users_, stored_email);
  ASSERT_EQ(zero.status, 200) << zero.body;
  EXPECT_EQ(zero.json(), (nlohmann::json{{"email", stored_email}, {"balance", "0.00"}}));

  auto added =
      ledger_.post("/addMoney", nlohmann::json{{"user_id", id}, {"amount", "12.34"}}.dump());
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(added.json()["updated_balance"], "12.34");

  auto by_query = get_balance(users_, stored_email);
  ASSERT_EQ(by_query.status, 200) << by_query.body;
  EXPECT_EQ(by_query.json()["balance"], "12.34");
  auto by_body = users_.get_with_body("/balance", nlohmann::json{{"email", stored_email}}.dump());
  ASSERT_EQ(by_body.status, 200) << by_body.body;
  EXPECT_EQ(by_body.json()["balance"], "12.34");

  auto fetched = users_.get("/users/" + id);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_EQ(fetched.json(), user);
}

TEST_F(ProvisioningTest, UserCreatedEventCarriesTheContractPayload) {
  KafkaReader reader(kafka_brokers(), messaging::kUserCreatedTopic, KafkaReader::From::end);
  ASSERT_EQ(reader.error(), "");
  auto created = create_user(users_, unique_email("event"));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto user = created.json();
  auto record = reader.find([&](const KafkaRecord& r) { return r.key == user["user_id"]; }, 20s);
  ASSERT_TRUE(record) << "no user-created event for " << user["user_id"];
  auto event = nlohmann::json::parse(record->value, nullptr, false);
  ASSERT_TRUE(event.is_object()) << record->value;
  EXPECT_EQ(event["user_id"], user["user_id"]);
  EXPECT_EQ(event["email"], user["email"]);
  EXPECT_EQ(event["created_at"], user["created_at"]);
  ASSERT_TRUE(event["event_id"].is_string());
  EXPECT_TRUE(domain::is_uuid(event["event_id"].get<std::string>()));
}

TEST_F(ProvisioningTest, ConcurrentCreatesOfOneEmailGiveOne201AndOne409) {
  for (int round = 0; round < 10; ++round) {
    const auto email = unique_email("race");
    auto a = std::async(std::launch::async, [&] { return create_user(users_, email); });
    auto b = std::async(std::launch::async, [&] { return create_user(users_, email); });
    auto first = a.get();
    auto second = b.get();
    std::multiset<int> statuses{first.status, second.status};
    ASSERT_EQ(statuses, (std::multiset<int>{201, 409})) << first.body << " " << second.body;
    const auto& loser = first.status == 409 ? first : second;
    EXPECT_EQ(loser.error_code(), "email_taken");
  }
}

TEST_F(ProvisioningTest, UserServiceErrorsFollowTheContract) {
  EXPECT_EQ(users_.post("/createUser", "{\"email\":").error_code(), "invalid_json");
  EXPECT_EQ(users_.post("/users", R"({"email":"no-at-sign"})").status, 400);
  EXPECT_EQ(users_.post("/users", R"({"email":42})").error_code(), "invalid_email");
  EXPECT_EQ(users_.post("/users", R"({})").error_code(), "invalid_email");
  auto unknown = get_balance(users_, unique_email("nobody"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "user_not_found");
  EXPECT_EQ(users_.get("/getBalance").error_code(), "invalid_email");
  EXPECT_EQ(users_.get("/getBalance?email=not-an-email").error_code(), "invalid_email");
  EXPECT_EQ(users_.get("/users/not-a-uuid").error_code(), "invalid_user_id");
  auto missing = users_.get("/users/" + domain::new_uuid_v4());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "user_not_found");
}

TEST(BalanceOverNatsTest, ResponderAnswersTheContractErrors) {
  messaging::NatsRequesterOptions options;
  options.url = nats_url();
  options.threads = 1;
  messaging::NatsRequester requester(options);
  for (int i = 0; i < 100 && !requester.healthy(); ++i) std::this_thread::sleep_for(50ms);
  auto ask = [&](const std::string& payload) {
    AwaitedReply<domain::Result<std::string>> awaited;
    requester.request(messaging::kBalanceSubject, payload, awaited.callback());
    auto reply = awaited.get();
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
  };
  EXPECT_EQ(ask("garbage")["error"]["code"], "invalid_json");
  EXPECT_EQ(ask(R"({"user_id":"nope"})")["error"]["code"], "invalid_user_id");
  EXPECT_EQ(ask(nlohmann::json{{"user_id", domain::new_uuid_v4()}}.dump())["error"]["code"],
            "user_not_found");
}

}  // namespace
}  // namespace wallet::test
