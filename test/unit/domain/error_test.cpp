// Unit tests of domain/error and domain/result: contract code names, statuses and Result access.
#include "domain/error.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "domain/result.hpp"

namespace wallet::domain {
namespace {

TEST(ErrorTest, CodeNamesAndStatusesMatchTheContract) {
  EXPECT_EQ(code_name(ErrorCode::invalid_amount), "invalid_amount");
  EXPECT_EQ(http_status(ErrorCode::invalid_amount), 400);
  EXPECT_EQ(code_name(ErrorCode::insufficient_funds), "insufficient_funds");
  EXPECT_EQ(http_status(ErrorCode::insufficient_funds), 409);
  EXPECT_EQ(http_status(ErrorCode::idempotency_key_mismatch), 422);
  EXPECT_EQ(http_status(ErrorCode::upstream_timeout), 504);
  EXPECT_EQ(code_name(ErrorCode::rate_limited), "rate_limited");
  EXPECT_EQ(http_status(ErrorCode::rate_limited), 429);
}

TEST(ErrorTest, EveryCodeNameParsesBack) {
  // ErrorCode is an enum class (underlying int), so every int is a valid value; codes past the
  // last enumerator fall back to "internal", which ends the walk.
  int listed = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (code != ErrorCode::internal && code_name(code) == "internal") break;
    ErrorCode parsed = ErrorCode::internal;
    ASSERT_TRUE(parse_code_name(code_name(code), parsed)) << code_name(code);
    EXPECT_EQ(parsed, code) << code_name(code);
    ++listed;
  }
  EXPECT_GE(listed, 22);
  ErrorCode unused = ErrorCode::internal;
  EXPECT_FALSE(parse_code_name("no_such_code", unused));
}

TEST(ErrorTest, ErrorBodyHasContractShapeEvenForInvalidUtf8) {
  const auto body = nlohmann::json::parse(error_body({ErrorCode::invalid_json, "bad \xff byte"}));
  EXPECT_EQ(body.at("error").at("code"), "invalid_json");
  EXPECT_TRUE(body.at("error").at("message").is_string());
}

TEST(ResultTest, HoldsEitherValueOrError) {
  const Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  const Result<int> error(ErrorCode::invalid_json, "bad");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code, ErrorCode::invalid_json);
  EXPECT_EQ(error.error().message, "bad");
}

}  // namespace
}  // namespace wallet::domain
