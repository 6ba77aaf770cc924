// Unit tests of http/forwarding (beyond one machine): the wire form of a forwarded request, the
// owner's side running it through its router, and the routing decision (serve here, hand to the
// owner, or refuse a request that was forwarded here already).
#include "http/forwarding.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/partitioning.hpp"

namespace wallet::http {
namespace {

HttpRequest sample() {
  HttpRequest request;
  request.method = "POST";
  request.path = "/transferMoney";
  request.query = {{"a", "1 2"}};
  request.headers = {{"idempotency-key", "k-1"}, {"content-type", "application/json"}};
  request.body = R"({"amount":"1.00","note":"caf\u00e9 \"quoted\""})";
  return request;
}

// A responder whose answer lands in `out` instead of a connection.
ResponderPtr capture(std::optional<PendingReply>& out) {
  ReplyTarget target;
  target.sink = [&out](PendingReply reply) { out = std::move(reply); };
  return std::make_shared<Responder>(std::move(target), "test", "POST", "/transferMoney", nullptr);
}

TEST(ForwardingTest, ARequestSurvivesTheWireAndIsMarkedForwarded) {
  const auto decoded = decode_forwarded(encode_forwarded(sample(), "instance-a"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->method, "POST");
  EXPECT_EQ(decoded->path, "/transferMoney");
  EXPECT_EQ(decoded->body, sample().body);
  EXPECT_EQ(decoded->query, sample().query);
  EXPECT_EQ(decoded->header("idempotency-key"), "k-1");
  EXPECT_EQ(decoded->header("x-wallet-forwarded-by"), "instance-a");
}

TEST(ForwardingTest, MalformedPayloadsDecodeToNothing) {
  for (const char* bad : {"", "{", "[]", "42", R"({"method":"POST"})",
                          R"({"method":1,"path":"/x","body":"","query":{},"headers":{}})",
                          R"({"method":"GET","path":"/x","body":"","query":[],"headers":{}})"}) {
    EXPECT_FALSE(decode_forwarded(bad)) << bad;
  }
}

TEST(ForwardingTest, TheOwnerRunsTheRequestThroughItsRouterAndEncodesTheAnswer) {
  Router router;
  router.add("POST", "/transferMoney", [](const HttpRequest& request, ResponderPtr responder) {
    responder->send(200, request.body, {{"Idempotent-Replayed", "true"}});
  });
  auto owned = std::make_shared<actors::OwnedPartitions>("instance-b", 12);
  OwnerRouting routing(owned, nullptr);
  auto serve = [&](const std::string& payload) {
    std::string answer;
    routing.serve(router, payload, [&answer](std::string a) { answer = std::move(a); });
    return nlohmann::json::parse(answer);
  };
  auto ok = serve(encode_forwarded(sample(), "instance-a"));
  EXPECT_EQ(ok["status"], 200);
  EXPECT_EQ(ok["body"], sample().body);
  EXPECT_EQ(ok["headers"], nlohmann::json::parse(R"([["Idempotent-Replayed","true"]])"));
  auto unknown = sample();
  unknown.path = "/nowhere";
  EXPECT_EQ(serve(encode_forwarded(unknown, "instance-a"))["status"], 404);
  unknown.path = "/transferMoney";
  unknown.method = "GET";
  EXPECT_EQ(serve(encode_forwarded(unknown, "instance-a"))["status"], 405);
  auto malformed = serve("not json");
  EXPECT_EQ(malformed["status"], 400);
  EXPECT_EQ(nlohmann::json::parse(malformed["body"].get<std::string>())["error"]["code"],
            "bad_request");
}

// What a coordinator of a transaction across owners reads of an owner's answer to its hold.
TEST(ForwardingTest, AnOwnersAnswerDecodesToItsStatusAndBody) {
  Router router;
  router.add("POST", "/admin/transaction-holds",
             [](const HttpRequest&, ResponderPtr responder) { responder->send(201, "{\"a\":1}"); });
  auto owned = std::make_shared<actors::OwnedPartitions>("instance-b", 12);
  OwnerRouting routing(owned, nullptr);
  auto request = sample();
  request.path = "/admin/transaction-holds";
  std::string payload;
  routing.serve(router, encode_forwarded(request, "instance-a"),
                [&payload](std::string a) { payload = std::move(a); });
  auto answer = decode_answer(payload);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->first, 201);
  EXPECT_EQ(answer->second, "{\"a\":1}");
  EXPECT_FALSE(decode_answer("not json"));
  EXPECT_FALSE(decode_answer(R"({"status": "201", "body": ""})"));
  EXPECT_FALSE(decode_answer(R"({"status": 201})"));
}

TEST(ForwardingTest, ServedHereSentToTheOwnerOrRefusedWhenForwardedAlready) {
  const std::string user = "6c0f1f5e-6f7e-4c1a-9a57-3b1b6d9e2a10";
  const int partition = domain::partition_of(user, 12);
  auto owned = std::make_shared<actors::OwnedPartitions>("instance-a", 12);
  std::vector<int> sent_to;
  OwnerRouting routing(owned, [&sent_to](int p, std::string, auto done, auto) {
    sent_to.push_back(p);
    done(std::string(R"({"status":201,"body":"{}","headers":[]})"));
  });

  owned->hold(partition, 1);
  std::optional<PendingReply> answer;
  auto here = capture(answer);
  EXPECT_FALSE(routing.elsewhere(user, sample(), here));  // ours: served here
  EXPECT_TRUE(sent_to.empty());
  EXPECT_FALSE(answer);  // left to the handler
  here->send(200, "{}");

  owned->leave(partition);  // moving away: no longer served here
  EXPECT_TRUE(routing.elsewhere(user, sample(), capture(answer)));
  ASSERT_EQ(sent_to, std::vector<int>{partition});
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 201);  // the owner's answer, relayed

  auto forwarded = sample();
  forwarded.headers["x-wallet-forwarded-by"] = "instance-c";
  answer.reset();
  EXPECT_TRUE(routing.elsewhere(user, forwarded, capture(answer)));
  EXPECT_EQ(sent_to.size(), 1u);  // never forwarded twice
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(nlohmann::json::parse(answer->body)["error"]["code"], "partition_moved");
}

TEST(ForwardingTest, NoAnswerFromTheOwnerIsAnUnknownOutcomeNotAFailure) {
  const std::string user = "6c0f1f5e-6f7e-4c1a-9a57-3b1b6d9e2a10";
  auto owned = std::make_shared<actors::OwnedPartitions>("instance-a", 12);
  domain::Error failure{domain::ErrorCode::upstream_timeout, "no answer"};
  OwnerRouting routing(owned, [&failure](int, std::string, auto done, auto) { done(failure); });
  std::optional<PendingReply> answer;
  ASSERT_TRUE(routing.elsewhere(user, sample(), capture(answer)));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 504);
  EXPECT_NE(answer->body.find("may still complete"), std::string::npos);
  failure = {domain::ErrorCode::unavailable, "no responders"};  // never delivered
  answer.reset();
  ASSERT_TRUE(routing.elsewhere(user, sample(), capture(answer)));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(nlohmann::json::parse(answer->body)["error"]["code"], "partition_moved");
}

}  // namespace
}  // namespace wallet::http
