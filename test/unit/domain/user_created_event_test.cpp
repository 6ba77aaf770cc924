// The `user-created` codec: which values transaction-service accepts and which it dead-letters, and
// that what user-service encodes decodes to the same event.
#include "domain/user_created_event.hpp"

#include <gtest/gtest.h>

namespace wallet::domain {
namespace {

TEST(UserCreatedEventTest, AcceptsTheContractPayloadAndIgnoresExtraFields) {
  auto event = decode_user_created(
      R"({"user_id":"0E4A3F57-2A7B-4C1D-9E3F-1234567890AB","email":"a@b.com",)"
      R"("created_at":"2024-02-29T23:59:59.123456Z","event_id":"x","later":[1,2]})");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->user_id, "0e4a3f57-2a7b-4c1d-9e3f-1234567890ab");
  EXPECT_EQ(event->created_at, "2024-02-29T23:59:59.123456Z");
}

TEST(UserCreatedEventTest, EncodedEventsDecodeToTheSameEvent) {
  const auto at =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1709251199123456));
  UserCreatedEvent event{"7d1c1c3e-0f6e-4b8e-9d55-3c1f0a4b2e10",
                         "0e4a3f57-2a7b-4c1d-9e3f-1234567890ab", "a@b.com",
                         format_utc_timestamp(at)};
  EXPECT_EQ(event.created_at, "2024-02-29T23:59:59.123456Z");
  EXPECT_TRUE(is_rfc3339_timestamp(event.created_at));
  const auto text = encode_user_created(event);
  EXPECT_EQ(text, R"({"created_at":"2024-02-29T23:59:59.123456Z","email":"a@b.com",)"
                  R"("event_id":"7d1c1c3e-0f6e-4b8e-9d55-3c1f0a4b2e10",)"
                  R"("user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab"})");
  auto decoded = decode_user_created(text);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->user_id, event.user_id);
  EXPECT_EQ(decoded->created_at, event.created_at);
  // Before the epoch and at a whole second: the fraction is still six digits.
  EXPECT_EQ(
      format_utc_timestamp(std::chrono::system_clock::time_point(std::chrono::microseconds(-1))),
      "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_utc_timestamp(std::chrono::system_clock::time_point(std::chrono::seconds(0))),
            "1970-01-01T00:00:00.000000Z");
}

TEST(UserCreatedEventTest, MissingCreatedAtIsAccepted) {
  auto event = decode_user_created(R"({"user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab"})");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->created_at, "");
}

TEST(UserCreatedEventTest, PoisonValuesAreRejectedWithAReason) {
  for (
      const char* value :
      {"", "not json", "[1,2]", "\"text\"", "{}", R"({"user_id":42})", R"({"user_id":"abc"})",
       R"({"user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab","created_at":"yesterday"})",
       R"({"user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab","created_at":null})",
       R"({"user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab","created_at":"2023-02-29T00:00:00Z"})"}) {
    auto event = decode_user_created(value);
    ASSERT_FALSE(event) << value;
    EXPECT_FALSE(event.error().message.empty());
  }
}

TEST(UserCreatedEventTest, Rfc3339TimestampsAreCheckedFieldByField) {
  EXPECT_TRUE(is_rfc3339_timestamp("2024-01-31T10:20:30Z"));
  EXPECT_TRUE(is_rfc3339_timestamp("2024-01-31t10:20:30.5+05:30"));
  EXPECT_TRUE(is_rfc3339_timestamp("2024-01-31 10:20:30-00:00"));
  EXPECT_FALSE(is_rfc3339_timestamp("2024-01-31T10:20:30"));       // no offset
  EXPECT_FALSE(is_rfc3339_timestamp("2024-13-01T10:20:30Z"));      // month
  EXPECT_FALSE(is_rfc3339_timestamp("2024-04-31T10:20:30Z"));      // day
  EXPECT_FALSE(is_rfc3339_timestamp("2024-01-31T24:00:00Z"));      // hour
  EXPECT_FALSE(is_rfc3339_timestamp("2024-01-31T10:20:30.Z"));     // empty fraction
  EXPECT_FALSE(is_rfc3339_timestamp("2024-01-31T10:20:30+0530"));  // offset form
  EXPECT_FALSE(is_rfc3339_timestamp("2024-01-31T10:20:30Zjunk"));
}

}  // namespace
}  // namespace wallet::domain
