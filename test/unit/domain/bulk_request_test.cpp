#include "domain/bulk_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "domain/json_spans.hpp"

namespace wallet::domain {
namespace {

std::string one(const std::string& operation) { return R"({"operations":[)" + operation + "]}"; }

TEST(BulkRequest, EveryActionGoesToItsEndpoint) {
  auto decoded = decode_bulk(R"({"operations":[
    {"action":"deposit","idempotency_key":"k1","data":{"user_id":"u","amount":"1.00"}},
    {"action":"transfer","idempotency_key":"k2","data":{}},
    {"action":"withdrawal","idempotency_key":"k3"},
    {"action":"hold","idempotency_key":"k4","data":{}},
    {"action":"capture","idempotency_key":"k5","hold_id":"abc-1"},
    {"action":"void","idempotency_key":"k6","hold_id":"abc-2"},
    {"action":"transaction","idempotency_key":"k7","data":{"postings":[]}},
    {"action":"reverse","idempotency_key":"k8","transaction_id":"t-9","data":{"amount":"2"}}]})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  const std::vector<std::string> paths{
      "/addMoney",     "/transferMoney",           "/withdrawMoney",
      "/holds",        "/holds/abc-1/capture",     "/holds/abc-2/void",
      "/transactions", "/transactions/t-9/reverse"};
  ASSERT_EQ(decoded->size(), paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ((*decoded)[i].path, paths[i]);
    EXPECT_EQ((*decoded)[i].idempotency_key, "k" + std::to_string(i + 1));
  }
  EXPECT_EQ((*decoded)[2].body, "{}");
  EXPECT_EQ((*decoded)[0].action, "deposit");
}

TEST(BulkRequest, DataKeepsTheClientsTextExactly) {
  // A number amount keeps its digits (a parsed double would not), and escapes stay as written.
  const std::string data =
      R"({ "user_id":"u\"x", "amount": 12345678901234567.10 , "n":[1,{"a":"]"}] })";
  auto decoded = decode_bulk(R"({ "operations" : [ {"data": )" + data +
                             R"( , "action":"deposit","idempotency_key":"k"} ] })");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->at(0).body, data);
}

TEST(BulkRequest, DuplicateKeysOfOneOperationKeepTheLastLikeTheParser) {
  auto decoded = decode_bulk(
      R"({"operations":[{"action":"deposit","idempotency_key":"k","data":{"a":1},"data":{"b":2}}]})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->at(0).body, R"({"b":2})");
}

TEST(BulkRequest, AKeyMayRepeat) {
  auto decoded = decode_bulk(R"({"operations":[{"action":"deposit","idempotency_key":"k"},
                                               {"action":"deposit","idempotency_key":"k"}]})");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->size(), 2u);
}

TEST(BulkRequest, BadEnvelopesAreRefusedNamingTheOperation) {
  struct Case {
    std::string body, says;
  };
  const std::vector<Case> cases{
      {"not json", "not valid JSON"},
      {"[]", "JSON object"},
      {R"({"operations":[]})", "1 to 1000"},
      {R"({"operations":{}})", "1 to 1000"},
      {R"({"ops":[]})", "unknown field"},
      {R"({"operations":[{"action":"deposit","idempotency_key":"k"}],"atomic":true})",
       "POST /transactions"},
      {one(R"(3)"), "operations[0]: an operation is a JSON object"},
      {one(R"({"idempotency_key":"k"})"), "operations[0]: \"action\" is required"},
      {one(R"({"action":"steal","idempotency_key":"k"})"), "unknown action \"steal\""},
      {one(R"({"action":"deposit"})"), "\"idempotency_key\" is required"},
      {one(R"({"action":"deposit","idempotency_key":"has space"})"), "idempotency_key"},
      {one(R"({"action":"deposit","idempotency_key":""})"), "idempotency_key"},
      {one(R"({"action":"deposit","idempotency_key":7})"), "idempotency_key"},
      {one(R"({"action":"deposit","idempotency_key":"k","data":[]})"), "\"data\" is the JSON"},
      {one(R"({"action":"deposit","idempotency_key":"k","data":null})"), "\"data\" is the JSON"},
      {one(R"({"action":"deposit","idempotency_key":"k","extra":1})"), "unknown field \"extra\""},
      {one(R"({"action":"capture","idempotency_key":"k"})"), "capture needs \"hold_id\""},
      {one(R"({"action":"capture","idempotency_key":"k","hold_id":"../admin"})"),
       "capture needs \"hold_id\""},
      {one(R"({"action":"reverse","idempotency_key":"k","hold_id":"x"})"), "does not belong"},
      {one(R"({"action":"deposit","idempotency_key":"k","transaction_id":"x"})"),
       "does not belong"},
  };
  for (const auto& c : cases) {
    auto decoded = decode_bulk(c.body);
    ASSERT_FALSE(decoded) << c.body;
    EXPECT_NE(decoded.error().message.find(c.says), std::string::npos)
        << c.body << " -> " << decoded.error().message;
    EXPECT_TRUE(decoded.error().code == ErrorCode::invalid_bulk ||
                decoded.error().code == ErrorCode::invalid_json);
  }
}

TEST(BulkRequest, AtMostAThousandOperations) {
  auto of = [](size_t n) {
    std::string body = R"({"operations":[)";
    for (size_t i = 0; i < n; ++i) {
      body += std::string(i ? "," : "") + R"({"action":"deposit","idempotency_key":"k)" +
              std::to_string(i) + R"("})";
    }
    return body + "]}";
  };
  auto over = decode_bulk(of(kMaxBulkOperations + 1));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::invalid_bulk);
  auto at = decode_bulk(of(kMaxBulkOperations));
  ASSERT_TRUE(at) << at.error().message;
  EXPECT_EQ(at->size(), kMaxBulkOperations);
  EXPECT_EQ(at->back().idempotency_key, "k999");
}

TEST(JsonSpans, MemberTextsAreTheWrittenBytes) {
  const std::string text =
      R"({"x":{"results":[]},"results":[{"body":{"b":"}\"]","a":1.50}},{"status":2},)"
      R"( 7, {"body" : [ 1 , 2 ] ,"body":"last"}]})";
  ASSERT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
  EXPECT_EQ(member_texts(text, "results", "body"),
            (std::vector<std::string>{R"({"b":"}\"]","a":1.50})", "", "", R"("last")"}));
  EXPECT_TRUE(member_texts(R"({"results":[]})", "results", "body").empty());
  EXPECT_TRUE(member_texts(R"({"other":[{"body":1}]})", "results", "body").empty());
}

TEST(JsonSpans, MalformedTextEndsWithoutSpinning) {
  for (const std::string text : {"", "{", R"({"results":[{"body":)", R"({"results":[{)", "{]]]",
                                 R"({"results" [})", "{{{{", R"({"a":"unterminated)"}) {
    (void)member_texts(text, "results", "body");  // returns; what it returns is unspecified
  }
  SUCCEED();
}

}  // namespace
}  // namespace wallet::domain
