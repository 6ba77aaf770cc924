// decode_transaction and decode_reversal (SPEC.md section 8): postings of accounts and @world,
// amounts at each currency's exponent from the text the client wrote (a JSON number too), the
// metadata and reference rules, and the refusals of bad input.
#include "domain/transaction_requests.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wallet::domain {
namespace {

const std::string kA = "11111111-1111-4111-8111-111111111111";
const std::string kB = "22222222-2222-4222-8222-222222222222";

std::string posting(const std::string& from, const std::string& to, const std::string& amount,
                    const std::string& currency) {
  return R"({"from":")" + from + R"(","to":")" + to + R"(","amount":)" + amount +
         R"(,"currency":")" + currency + "\"}";
}

std::string body(const std::string& postings, const std::string& rest = "") {
  return R"({"postings":[)" + postings + "]" + rest + "}";
}

ErrorCode refusal(const std::string& text) {
  auto decoded = decode_transaction(text, std::nullopt);
  EXPECT_FALSE(decoded) << text;
  return decoded ? ErrorCode::internal : decoded.error().code;
}

TEST(DecodeTransaction, PaymentWithFeeAndWorld) {
  auto decoded = decode_transaction(
      body(posting(kA, kB, "\"12.30\"", "EUR") + "," + posting(kA, "@world", "0.5", "EUR") + "," +
               posting("@world", kB, "1500", "JPY"),
           R"(,"metadata":{"order":"o-1"},"reference":"pay-1")"),
      std::string("key-1"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->postings.size(), 3u);
  EXPECT_EQ(decoded->postings[0].amount, 1230);
  EXPECT_EQ(decoded->postings[1].amount, 50);  // a JSON number, from its text
  EXPECT_EQ(decoded->postings[1].to, "@world");
  EXPECT_EQ(decoded->postings[2].amount, 1500);  // yen: exponent 0
  EXPECT_EQ(decoded->postings[2].exponent, 0);
  EXPECT_EQ(decoded->metadata, R"({"order":"o-1"})");
  EXPECT_EQ(decoded->reference, "pay-1");
  EXPECT_EQ(decoded->idempotency_key, "key-1");
  EXPECT_EQ(postings_json(decoded->postings),
            R"([{"amount":"12.30","currency":"EUR","from":")" + kA + R"(","to":")" + kB +
                R"("},{"amount":"0.50","currency":"EUR","from":")" + kA +
                R"(","to":"@world"},{"amount":"1500","currency":"JPY","from":"@world","to":")" +
                kB + R"("}])");
}

TEST(DecodeTransaction, UppercaseIdsAreCanonical) {
  std::string upper = kA;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto decoded = decode_transaction(body(posting(upper, kB, "\"1\"", "USD")), std::nullopt);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->postings[0].from, kA);
}

TEST(DecodeTransaction, SameMeaningSameCanonicalText) {
  auto one = decode_transaction(
      body(posting(kA, kB, "\"1.5\"", "USD"), R"(,"metadata":{"b":"2","a":"1"})"), std::nullopt);
  auto two = decode_transaction(
      body(posting(kA, kB, "1.50", "USD"), R"(,"metadata":{"a":"1","b":"2"})"), std::nullopt);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(canonical_transaction(*one), canonical_transaction(*two));
  auto other = decode_transaction(body(posting(kA, kB, "1.51", "USD")), std::nullopt);
  ASSERT_TRUE(other);
  EXPECT_NE(canonical_transaction(*one), canonical_transaction(*other));
}

TEST(DecodeTransaction, RefusesBadPostings) {
  EXPECT_EQ(refusal(""), ErrorCode::invalid_json);
  EXPECT_EQ(refusal("{"), ErrorCode::invalid_json);
  EXPECT_EQ(refusal("[]"), ErrorCode::invalid_json);
  EXPECT_EQ(refusal("{}"), ErrorCode::invalid_postings);
  EXPECT_EQ(refusal(R"({"postings":[]})"), ErrorCode::invalid_postings);
  EXPECT_EQ(refusal(R"({"postings":{}})"), ErrorCode::invalid_postings);
  EXPECT_EQ(refusal(R"({"postings":[1]})"), ErrorCode::invalid_postings);
  std::string many;
  for (int i = 0; i < 33; ++i) many += (i ? "," : "") + posting(kA, kB, "1", "USD");
  EXPECT_EQ(refusal(body(many)), ErrorCode::invalid_postings);
  EXPECT_EQ(refusal(body(posting("@world", "@world", "1", "USD"))), ErrorCode::invalid_postings);
  EXPECT_EQ(refusal(body(posting(kA, kA, "1", "USD"))), ErrorCode::same_account);
  EXPECT_EQ(refusal(body(posting("nope", kB, "1", "USD"))), ErrorCode::invalid_account_id);
  EXPECT_EQ(refusal(body(R"({"to":")" + kB + R"(","amount":"1","currency":"USD"})")),
            ErrorCode::invalid_account_id);
  EXPECT_EQ(refusal(body(posting(kA, kB, "1", "XXX"))), ErrorCode::invalid_currency);
  EXPECT_EQ(refusal(body(R"({"from":")" + kA + R"(","to":")" + kB + R"(","amount":"1"})")),
            ErrorCode::invalid_currency);
}

TEST(DecodeTransaction, RefusesBadAmounts) {
  EXPECT_EQ(refusal(body(posting(kA, kB, "0", "USD"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "-1", "USD"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "\"1.001\"", "USD"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "\"1.5\"", "JPY"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "1e2", "USD"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "\"1000000000.01\"", "USD"))), ErrorCode::invalid_amount);
  EXPECT_EQ(refusal(body(posting(kA, kB, "true", "USD"))), ErrorCode::invalid_amount);
  auto kwd = decode_transaction(body(posting(kA, kB, "\"1.234\"", "KWD")), std::nullopt);
  ASSERT_TRUE(kwd);
  EXPECT_EQ(kwd->postings[0].amount, 1234);
}

TEST(DecodeTransaction, MetadataAndReferenceRules) {
  const auto one = posting(kA, kB, "1", "USD");
  EXPECT_EQ(refusal(body(one, R"(,"metadata":[])")), ErrorCode::invalid_metadata);
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"a":1})")), ErrorCode::invalid_metadata);
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"a":{"b":"c"}})")), ErrorCode::invalid_metadata);
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"":"x"})")), ErrorCode::invalid_metadata);
  // jsonb cannot store \u0000: a 400, never a commit that fails.
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"a":"x\u0000y"})")), ErrorCode::invalid_metadata);
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"a\u0000":"x"})")), ErrorCode::invalid_metadata);
  std::string seventeen = R"(,"metadata":{)";
  for (int i = 0; i < 17; ++i)
    seventeen += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":\"v\"");
  EXPECT_EQ(refusal(body(one, seventeen + "}")), ErrorCode::invalid_metadata);
  EXPECT_EQ(refusal(body(one, R"(,"metadata":{"a":")" + std::string(257, 'x') + "\"}")),
            ErrorCode::invalid_metadata);
  EXPECT_TRUE(decode_transaction(body(one, R"(,"metadata":{"a":")" + std::string(256, 'x') + "\"}"),
                                 std::nullopt));
  EXPECT_EQ(refusal(body(one, R"(,"reference":"")")), ErrorCode::invalid_reference);
  EXPECT_EQ(refusal(body(one, R"(,"reference":"a\nb")")), ErrorCode::invalid_reference);
  EXPECT_EQ(refusal(body(one, R"(,"reference":5)")), ErrorCode::invalid_reference);
  EXPECT_EQ(refusal(body(one, R"(,"reference":")" + std::string(129, 'r') + "\"")),
            ErrorCode::invalid_reference);
  auto ok = decode_transaction(body(one, R"(,"reference":")" + std::string(128, 'r') + "\""),
                               std::nullopt);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->reference->size(), 128u);
}

TEST(DecodeTransaction, IdempotencyKeyHeaderAndBodyMustAgree) {
  const auto one = posting(kA, kB, "1", "USD");
  auto both = decode_transaction(body(one, R"(,"idempotency_key":"k")"), std::string("k"));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->idempotency_key, "k");
  auto differ = decode_transaction(body(one, R"(,"idempotency_key":"k")"), std::string("j"));
  ASSERT_FALSE(differ);
  EXPECT_EQ(differ.error().code, ErrorCode::invalid_idempotency_key);
}

TEST(DecodeReversal, EmptyWholeOrAmount) {
  auto empty = decode_reversal("", std::nullopt);
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->amount);
  auto whole = decode_reversal("{}", std::string("k"));
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->idempotency_key, "k");
  auto part = decode_reversal(R"({"amount":"2.50"})", std::nullopt);
  ASSERT_TRUE(part && part->amount);
  EXPECT_EQ(*part->amount->to_minor(2), 250);
  auto number = decode_reversal(R"({"amount":2.5})", std::nullopt);
  ASSERT_TRUE(number && number->amount);
  EXPECT_EQ(*number->amount->to_minor(2), 250);
  EXPECT_FALSE(decode_reversal(R"({"amount":"-1"})", std::nullopt));
  EXPECT_FALSE(decode_reversal(R"({"amount":true})", std::nullopt));
  EXPECT_FALSE(decode_reversal("[", std::nullopt));
  EXPECT_NE(canonical_reversal("t", *whole), canonical_reversal("t", *part));
}

}  // namespace
}  // namespace wallet::domain
