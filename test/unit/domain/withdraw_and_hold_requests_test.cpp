// Unit tests of domain/requests for withdrawals, holds and hold closings.
#include <gtest/gtest.h>

#include <string>

#include "domain/requests.hpp"

namespace wallet::domain {
namespace {

const std::string kA = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b";
const std::string kB = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

std::string hold(const std::string& extra) {
  return R"({"from_user_id":")" + kA + R"(","to_user_id":")" + kB + R"(","amount":"1.50")" + extra +
         "}";
}

TEST(HoldRequestTest, DefaultsTheTimeoutAndBoundsIt) {
  auto decoded = decode_hold(hold(""), std::nullopt);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->amount, 150);
  EXPECT_EQ(decoded->timeout_seconds, 3600);
  EXPECT_EQ(decode_hold(hold(R"(,"timeout_seconds":1)"), std::nullopt)->timeout_seconds, 1);
  EXPECT_EQ(decode_hold(hold(R"(,"timeout_seconds":604800)"), std::nullopt)->timeout_seconds,
            604800);
  for (const char* bad :
       {"0", "604801", "-1", "1.0", "1e3", "\"5\"", "null", "true", "99999999999999999999"}) {
    auto r = decode_hold(hold(std::string(R"(,"timeout_seconds":)") + bad), std::nullopt);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_timeout) << bad;
  }
}

TEST(HoldRequestTest, RefusesTheSameAccountAndBadFields) {
  auto same = decode_hold(
      R"({"from_user_id":")" + kA + R"(","to_user_id":")" + kA + R"(","amount":"1.00"})",
      std::nullopt);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::same_account);
  EXPECT_EQ(
      decode_hold(R"({"from_user_id":")" + kA + R"(","amount":"1.00"})", std::nullopt).error().code,
      ErrorCode::invalid_user_id);
  EXPECT_EQ(decode_hold(hold(R"(,"amount":"2.00")"), std::nullopt).error().code,
            ErrorCode::invalid_json);  // duplicate key
}

TEST(HoldRequestTest, CanonicalFormTellsDifferentHoldsApart) {
  auto a = decode_hold(hold(""), std::nullopt);
  auto b = decode_hold(hold(R"(,"timeout_seconds":3600)"), std::nullopt);
  auto c = decode_hold(hold(R"(,"timeout_seconds":60)"), std::nullopt);
  EXPECT_EQ(canonical_hold(*a), canonical_hold(*b));
  EXPECT_NE(canonical_hold(*a), canonical_hold(*c));
}

TEST(HoldCloseRequestTest, EmptyBodyIsAllAndVoidTakesNoAmount) {
  auto all = decode_hold_close("", std::nullopt, true);
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->amount);
  auto part = decode_hold_close(R"({"amount":"2.25"})", std::string("k"), true);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->amount, 225);
  EXPECT_EQ(part->idempotency_key, "k");
  EXPECT_EQ(decode_hold_close(R"({"amount":"0"})", std::nullopt, true).error().code,
            ErrorCode::invalid_amount);
  EXPECT_EQ(decode_hold_close(R"({"amount":"1.00"})", std::nullopt, false).error().code,
            ErrorCode::invalid_amount);
  EXPECT_EQ(decode_hold_close("[", std::nullopt, false).error().code, ErrorCode::invalid_json);
  EXPECT_NE(canonical_hold_close("capture", kA, *all), canonical_hold_close("capture", kA, *part));
  EXPECT_NE(canonical_hold_close("capture", kA, *all), canonical_hold_close("capture", kB, *all));
}

TEST(WithdrawRequestTest, HasTheShapeOfADepositButItsOwnMeaning) {
  auto w = decode_withdraw(R"({"user_id":")" + kA + R"(","amount":"3.00"})", std::nullopt);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->amount, 300);
  EXPECT_NE(canonical_withdraw(*w), canonical_deposit(*w));
}

}  // namespace
}  // namespace wallet::domain
