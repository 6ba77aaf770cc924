// Unit tests of domain/json_fields: flat request objects, number text preservation and limits.
#include "domain/json_fields.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "domain/money.hpp"

namespace wallet::domain {
namespace {

using Kind = JsonScalar::Kind;

// The field, asserting the body parsed and has it.
JsonScalar field(std::string_view body, std::string_view key) {
  const Result<FlatObject> result = parse_flat_object(body);
  EXPECT_TRUE(result.ok()) << body << ": " << result.error().message;
  if (!result.ok()) return {};
  const JsonScalar* value = find(*result, key);
  EXPECT_NE(value, nullptr) << key;
  return value == nullptr ? JsonScalar{} : *value;
}

std::string fields_body(std::size_t count) {
  std::string body = "{";
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) body += ",";
    body += "\"f" + std::to_string(i) + "\":" + std::to_string(i);
  }
  return body + "}";
}

TEST(JsonFieldsTest, KeepsFloatTextExactly) {
  const JsonScalar amount = field(R"({"amount": 12.30})", "amount");
  EXPECT_EQ(amount.kind, Kind::number);
  EXPECT_EQ(amount.text, "12.30");
  EXPECT_EQ(Money::parse_amount(amount.text)->minor(), 1230);
}

TEST(JsonFieldsTest, KeepsTextOfFloatsThatAreNotExactInBinary) {
  EXPECT_EQ(field(R"({"amount": 0.10})", "amount").text, "0.10");
  EXPECT_EQ(field(R"({"amount": 999999999.99})", "amount").text, "999999999.99");
}

TEST(JsonFieldsTest, KeepsExponentTextSoMoneyRejectsIt) {
  const JsonScalar amount = field(R"({"amount": 1e2})", "amount");
  EXPECT_EQ(amount.kind, Kind::number);
  EXPECT_EQ(amount.text, "1e2");
  const Result<Money> money = Money::parse_amount(amount.text);
  ASSERT_FALSE(money.ok());
  EXPECT_EQ(money.error().code, ErrorCode::invalid_amount);
  EXPECT_EQ(field(R"({"amount": 1E+2})", "amount").text, "1E+2");
}

TEST(JsonFieldsTest, KeepsBigIntegerText) {
  EXPECT_EQ(field(R"({"n": 123456789012345678901234567890})", "n").text,
            "123456789012345678901234567890");
  EXPECT_EQ(field(R"({"n": -123456789012345678901234567890})", "n").text,
            "-123456789012345678901234567890");
}

TEST(JsonFieldsTest, RendersIntegersAsDecimalText) {
  EXPECT_EQ(field(R"({"n": 42})", "n").text, "42");
  EXPECT_EQ(field(R"({"n": 0})", "n").text, "0");
  EXPECT_EQ(field(R"({"n": -7})", "n").text, "-7");
  EXPECT_EQ(field(R"({"n": 18446744073709551615})", "n").text, "18446744073709551615");
  EXPECT_EQ(field(R"({"n": -9223372036854775808})", "n").text, "-9223372036854775808");
  EXPECT_EQ(field(R"({"n": 100})", "n").kind, Kind::number);
}

TEST(JsonFieldsTest, DecodesStringsBooleansAndNull) {
  const Result<FlatObject> result =
      parse_flat_object(R"( {"email": "a\u0040b.com", "yes": true, "no": false, "none": null} )");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->size(), 4u);
  EXPECT_EQ(find(*result, "email")->kind, Kind::string);
  EXPECT_EQ(find(*result, "email")->text, "a@b.com");
  EXPECT_EQ(find(*result, "yes")->kind, Kind::boolean);
  EXPECT_EQ(find(*result, "yes")->text, "true");
  EXPECT_EQ(find(*result, "no")->text, "false");
  EXPECT_EQ(find(*result, "none")->kind, Kind::null);
  EXPECT_EQ(find(*result, "missing"), nullptr);
}

TEST(JsonFieldsTest, KeepsStringAmountTextApartFromNumbers) {
  const JsonScalar amount = field(R"({"amount": "12.30"})", "amount");
  EXPECT_EQ(amount.kind, Kind::string);
  EXPECT_EQ(amount.text, "12.30");
}

TEST(JsonFieldsTest, AcceptsEmptyObjectAndMultiByteUtf8) {
  const Result<FlatObject> empty = parse_flat_object("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(field("{\"name\": \"Zo\xc3\xab \xe2\x82\xac\"}", "name").text,
            "Zo\xc3\xab \xe2\x82\xac");
}

TEST(JsonFieldsTest, AcceptsLimitsExactly) {
  EXPECT_TRUE(parse_flat_object(fields_body(kMaxJsonFields)).ok());
  const std::string key(kMaxJsonKeyBytes, 'k');
  EXPECT_TRUE(parse_flat_object("{\"" + key + "\": 1}").ok());
  const std::string value(kMaxJsonStringBytes, 'v');
  EXPECT_EQ(field("{\"s\": \"" + value + "\"}", "s").text, value);
}

struct RejectCase {
  const char* name;
  std::string body;
  const char* message_part;  // a phrase the message must contain
};

class JsonFieldsRejectTest : public testing::TestWithParam<RejectCase> {};

TEST_P(JsonFieldsRejectTest, AnswersInvalidJsonWithClearMessage) {
  const RejectCase& c = GetParam();
  const Result<FlatObject> result = parse_flat_object(c.body);
  ASSERT_FALSE(result.ok()) << c.body;
  EXPECT_EQ(result.error().code, ErrorCode::invalid_json);
  EXPECT_NE(result.error().message.find(c.message_part), std::string::npos)
      << result.error().message;
  // The message goes into a JSON error response: it must always serialize.
  EXPECT_NO_THROW((void)nlohmann::json(result.error().message).dump());
}

const std::vector<RejectCase> kRejectCases = {
    {"EmptyBody", "", "empty"},
    {"WhitespaceOnlyBody", " \n\t ", "empty"},
    {"TopLevelArray", R"([{"amount": "1.00"}])", "not an array"},
    {"TopLevelString", R"("amount")", "must be a JSON object"},
    {"TopLevelNumber", "12.30", "must be a JSON object"},
    {"TopLevelNull", "null", "must be a JSON object"},
    {"NestedObject", R"({"amount": {"value": "1.00"}})", "\"amount\" must not be an object"},
    {"NestedArray", R"({"amount": ["1.00"]})", "\"amount\" must not be an array"},
    {"EmptyNestedArray", R"({"tags": []})", "must not be an array"},
    {"DuplicateKeys", R"({"amount": "1.00", "amount": "2.00"})",
     "\"amount\" appears more than once"},
    {"TooManyFields", fields_body(kMaxJsonFields + 1), "more than 32 fields"},
    {"KeyTooLong", "{\"" + std::string(kMaxJsonKeyBytes + 1, 'k') + "\": 1}", "longer than 64"},
    {"StringTooLong", "{\"s\": \"" + std::string(kMaxJsonStringBytes + 1, 'v') + "\"}",
     "longer than 1024"},
    {"InvalidUtf8InString", "{\"email\": \"\xff\"}", "not valid UTF-8"},
    {"InvalidUtf8InKey", "{\"\xfe\": 1}", "not valid UTF-8"},
    {"OverlongUtf8Encoding", "{\"s\": \"\xc0\xaf\"}", "not valid UTF-8"},
    {"TruncatedContinuationByte", "{\"s\": \"\xe2\x82\"}", "not valid UTF-8"},
    {"LoneSurrogateEscape", R"({"s": "\ud800"})", "not valid JSON"},
    {"TruncatedAfterValue", R"({"amount": 1)", "truncated"},
    {"TruncatedInsideString", R"({"amount": "1.0)", "truncated"},
    {"TruncatedAfterColon", R"({"amount":)", "truncated"},
    {"OnlyOpeningBrace", "{", "truncated"},
    {"TrailingGarbage", "{} x", "not valid JSON"},
    {"TwoObjects", "{}{}", "not valid JSON"},
    {"TrailingComma", R"({"a": 1,})", "not valid JSON"},
    {"SingleQuotes", "{'a': 1}", "not valid JSON"},
    {"UnquotedKey", "{a: 1}", "not valid JSON"},
    {"Comment", R"({"a": 1 /* c */})", "not valid JSON"},
    {"NaNLiteral", R"({"amount": NaN})", "not valid JSON"},
    {"InfinityLiteral", R"({"amount": Infinity})", "not valid JSON"},
    {"LeadingZeroNumber", R"({"amount": 007.5})", "not valid JSON"},
    {"PlusSignNumber", R"({"amount": +1})", "not valid JSON"},
    {"HexNumber", R"({"amount": 0x10})", "not valid JSON"},
    {"NumberBeyondDouble", R"({"amount": 1e400})", "out of range"},
    {"UnescapedControlCharacter", "{\"s\": \"a\nb\"}", "not valid JSON"},
    {"NulByteAfterObject", std::string("{}\0", 3), "not valid JSON"},
    {"NulByteBeforeSecondObject", std::string("{\"a\":1}\0{\"b\":2}", 15), "not valid JSON"},
    {"RawNulInsideString", std::string("{\"a\":\"x\0y\"}", 11), "not valid JSON"},
};

INSTANTIATE_TEST_SUITE_P(Table, JsonFieldsRejectTest, testing::ValuesIn(kRejectCases),
                         [](const testing::TestParamInfo<RejectCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(JsonFieldsTest, AcceptsEscapedNulInsideString) {
  EXPECT_EQ(field(R"({"a": "x\u0000y"})", "a").text, std::string("x\0y", 3));
}

TEST(JsonFieldsTest, ErrorMessagesDoNotEchoTheBody) {
  const Result<FlatObject> result = parse_flat_object(R"({"secret-token-123": x})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.find("secret-token-123"), std::string::npos);
}

TEST(JsonFieldsTest, SurvivesDeepNestingWithoutRecursion) {
  const std::string body = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const Result<FlatObject> result = parse_flat_object(body);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::invalid_json);
}

}  // namespace
}  // namespace wallet::domain
