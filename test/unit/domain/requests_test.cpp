// Decoding of addMoney and transferMoney bodies into commands: every input rule answers with its
// own error code, and requests that mean the same operation have the same canonical text.
#include "domain/requests.hpp"

#include <gtest/gtest.h>

namespace wallet::domain {
namespace {

const std::string kA = "0e4a3f57-2a7b-4c1d-9e3f-1234567890ab";
const std::string kB = "7d1c1c3e-0f6e-4b8e-9d55-3c1f0a4b2e10";

ErrorCode deposit_error(const std::string& body, std::optional<std::string> key = std::nullopt) {
  auto decoded = decode_deposit(body, key);
  EXPECT_FALSE(decoded.ok()) << body;
  return decoded.ok() ? ErrorCode::internal : decoded.error().code;
}

ErrorCode transfer_error(const std::string& body) {
  auto decoded = decode_transfer(body, std::nullopt);
  EXPECT_FALSE(decoded.ok()) << body;
  return decoded.ok() ? ErrorCode::internal : decoded.error().code;
}

TEST(DecodeDepositTest, AcceptsAStringOrNumberAmountAndCanonicalizesTheId) {
  auto text = decode_deposit(
      R"({"user_id":"0E4A3F57-2A7B-4C1D-9E3F-1234567890AB","amount":"12.5"})", std::nullopt);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(text->user_id, kA);
  EXPECT_EQ(text->amount, 1250);
  EXPECT_FALSE(text->idempotency_key);
  auto number = decode_deposit(R"({"user_id":")" + kA + R"(","amount":12.50})", std::nullopt);
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(canonical_deposit(*text), canonical_deposit(*number));
}

TEST(DecodeDepositTest, EachRuleHasItsCode) {
  EXPECT_EQ(deposit_error("not json"), ErrorCode::invalid_json);
  EXPECT_EQ(deposit_error(R"({"amount":"1.00"})"), ErrorCode::invalid_user_id);
  EXPECT_EQ(deposit_error(R"({"user_id":42,"amount":"1.00"})"), ErrorCode::invalid_user_id);
  EXPECT_EQ(deposit_error(R"({"user_id":"abc","amount":"1.00"})"), ErrorCode::invalid_user_id);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"("})"), ErrorCode::invalid_amount);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"(","amount":"-1.00"})"),
            ErrorCode::invalid_amount);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"(","amount":"0"})"),
            ErrorCode::invalid_amount);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"(","amount":"1.001"})"),
            ErrorCode::invalid_amount);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"(","amount":true})"),
            ErrorCode::invalid_amount);
}

TEST(DecodeDepositTest, IdempotencyKeyFromHeaderOrBodyMustAgree) {
  const std::string body = R"({"user_id":")" + kA + R"(","amount":"1.00","idempotency_key":"k-1"})";
  auto from_body = decode_deposit(body, std::nullopt);
  ASSERT_TRUE(from_body.ok());
  EXPECT_EQ(from_body->idempotency_key, std::optional<std::string>("k-1"));
  EXPECT_TRUE(decode_deposit(body, std::string("k-1")).ok());
  EXPECT_EQ(deposit_error(body, std::string("k-2")), ErrorCode::invalid_idempotency_key);
  EXPECT_EQ(
      deposit_error(R"({"user_id":")" + kA + R"(","amount":"1.00"})", std::string("has space")),
      ErrorCode::invalid_idempotency_key);
  EXPECT_EQ(deposit_error(R"({"user_id":")" + kA + R"(","amount":"1.00","idempotency_key":7})"),
            ErrorCode::invalid_idempotency_key);
}

TEST(DecodeTransferTest, AcceptsThePrimaryFieldOrItsAliasWhenTheyAgree) {
  const std::string ids = R"({"from_user_id":")" + kA + R"(","to_user_id":")" + kB + R"(",)";
  auto primary = decode_transfer(ids + R"("amount_to_transfer":"3.10"})", std::nullopt);
  ASSERT_TRUE(primary.ok()) << primary.error().message;
  EXPECT_EQ(primary->amount, 310);
  auto alias = decode_transfer(ids + R"("amount":"3.1"})", std::nullopt);
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(canonical_transfer(*primary), canonical_transfer(*alias));
  EXPECT_TRUE(
      decode_transfer(ids + R"("amount_to_transfer":"3.10","amount":"3.1"})", std::nullopt).ok());
  EXPECT_EQ(transfer_error(ids + R"("amount_to_transfer":"3.10","amount":"3.11"})"),
            ErrorCode::invalid_amount);
  EXPECT_NE(canonical_transfer(*primary),
            canonical_transfer(TransferRequest{kB, kA, 310, std::nullopt}));  // direction matters
}

TEST(DecodeTransferTest, EachRuleHasItsCode) {
  EXPECT_EQ(transfer_error(R"({"to_user_id":")" + kB + R"(","amount":"1"})"),
            ErrorCode::invalid_user_id);
  EXPECT_EQ(transfer_error(R"({"from_user_id":")" + kA + R"(","amount":"1"})"),
            ErrorCode::invalid_user_id);
  EXPECT_EQ(transfer_error(R"({"from_user_id":")" + kA + R"(","to_user_id":")" + kB + R"("})"),
            ErrorCode::invalid_amount);
  EXPECT_EQ(transfer_error(R"({"from_user_id":")" + kA + R"(","to_user_id":")" + kA +
                           R"(","amount":"1"})"),
            ErrorCode::same_account);
}

}  // namespace
}  // namespace wallet::domain
