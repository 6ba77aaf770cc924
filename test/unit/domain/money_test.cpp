// Unit tests of domain/money: the request amount parser, formatting, database text and overflow.
#include "domain/money.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace wallet::domain {
namespace {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

struct AmountCase {
  const char* name;
  std::string input;
  std::optional<int64_t> minor;  // nullopt: must be rejected as invalid_amount
};

class MoneyParseAmountTest : public testing::TestWithParam<AmountCase> {};

TEST_P(MoneyParseAmountTest, GivesExpectedMinorUnitsOrInvalidAmount) {
  const AmountCase& c = GetParam();
  const Result<Money> result = Money::parse_amount(c.input);
  if (c.minor) {
    ASSERT_TRUE(result.ok()) << "input \"" << c.input << "\": " << result.error().message;
    EXPECT_EQ(result->minor(), *c.minor);
  } else {
    ASSERT_FALSE(result.ok()) << "input \"" << c.input << "\" parsed as " << result->minor();
    EXPECT_EQ(result.error().code, ErrorCode::invalid_amount);
    EXPECT_FALSE(result.error().message.empty());
  }
}

const std::vector<AmountCase> kAmountCases = {
    // Accepted.
    {"AcceptsWholeUnits", "1", 100},
    {"AcceptsTwoDecimals", "12.34", 1234},
    {"AcceptsOneDecimal", "12.3", 1230},
    {"AcceptsTrailingZeroDecimal", "12.30", 1230},
    {"AcceptsOneCent", "0.01", 1},
    {"AcceptsFiveCents", "0.05", 5},
    {"AcceptsHalfUnit", "0.5", 50},
    {"AcceptsLeadingZerosWithTwoDecimals", "00.50", 50},
    {"AcceptsLeadingZerosWithOneDecimal", "007.5", 750},
    {"AcceptsZeroFractionOneDigit", "1.0", 100},
    {"AcceptsZeroFractionTwoDigits", "1.00", 100},
    {"AcceptsTen", "10.00", 1000},
    {"AcceptsHundred", "100", 10000},
    {"AcceptsNineNinetyNine", "999.99", 99999},
    {"AcceptsNineDigitAmount", "123456789.12", 12345678912},
    {"AcceptsJustBelowMaximum", "999999999.99", 99999999999},
    {"AcceptsMaximum", "1000000000.00", 100000000000},
    {"AcceptsMaximumWithoutDecimals", "1000000000", 100000000000},
    {"AcceptsMaximumWithOneDecimal", "1000000000.0", 100000000000},
    {"AcceptsMaximumWithLeadingZeros", "0001000000000.00", 100000000000},
    {"AcceptsSixtyFourCharacters", std::string(59, '0') + "12.34", 1234},
    // Rejected: shape.
    {"RejectsEmpty", "", std::nullopt},
    {"RejectsSpaceOnly", " ", std::nullopt},
    {"RejectsLeadingSpace", " 1.00", std::nullopt},
    {"RejectsTrailingSpace", "1.00 ", std::nullopt},
    {"RejectsInnerSpace", "1 000", std::nullopt},
    {"RejectsTab", "1.00\t", std::nullopt},
    {"RejectsNewline", "\n1", std::nullopt},
    {"RejectsMinusSign", "-1.00", std::nullopt},
    {"RejectsPlusSign", "+1.00", std::nullopt},
    {"RejectsNegativeZero", "-0", std::nullopt},
    {"RejectsLoneMinus", "-", std::nullopt},
    {"RejectsThreeFractionalDigits", "1.000", std::nullopt},
    {"RejectsThreeNonZeroFractionalDigits", "1.234", std::nullopt},
    {"RejectsFourFractionalDigits", "0.0001", std::nullopt},
    {"RejectsTrailingDot", "1.", std::nullopt},
    {"RejectsLeadingDot", ".5", std::nullopt},
    {"RejectsDotOnly", ".", std::nullopt},
    {"RejectsTwoDots", "1.2.3", std::nullopt},
    {"RejectsDecimalComma", "1,50", std::nullopt},
    {"RejectsThousandsSeparator", "1'000", std::nullopt},
    {"RejectsUnderscoreSeparator", "1_000", std::nullopt},
    {"RejectsLowerExponent", "1e2", std::nullopt},
    {"RejectsUpperExponent", "1E2", std::nullopt},
    {"RejectsExponentAfterFraction", "1.5e2", std::nullopt},
    {"RejectsNegativeExponent", "100e-2", std::nullopt},
    {"RejectsNaN", "NaN", std::nullopt},
    {"RejectsLowerNan", "nan", std::nullopt},
    {"RejectsInfinity", "Infinity", std::nullopt},
    {"RejectsNegativeInfinity", "-Infinity", std::nullopt},
    {"RejectsInf", "inf", std::nullopt},
    {"RejectsHex", "0x10", std::nullopt},
    {"RejectsUpperHex", "0X1A", std::nullopt},
    {"RejectsLetters", "abc", std::nullopt},
    {"RejectsTrailingLetters", "12abc", std::nullopt},
    {"RejectsCurrencySymbol", "$10", std::nullopt},
    {"RejectsCurrencyCode", "10USD", std::nullopt},
    {"RejectsQuotedText", "\"1.00\"", std::nullopt},
    {"RejectsEmbeddedNul", std::string("1\0", 2), std::nullopt},
    {"RejectsFullWidthDigit", "\xef\xbc\x91", std::nullopt},
    {"RejectsNonBreakingSpace", "1\xc2\xa0", std::nullopt},
    // Rejected: value.
    {"RejectsZero", "0", std::nullopt},
    {"RejectsZeroWithDecimals", "0.00", std::nullopt},
    {"RejectsZeroWithOneDecimal", "0.0", std::nullopt},
    {"RejectsManyZeros", "000", std::nullopt},
    {"RejectsOneCentAboveMaximum", "1000000000.01", std::nullopt},
    {"RejectsElevenDigitAmount", "10000000000", std::nullopt},
    {"RejectsLargestElevenDigitAmount", "99999999999.99", std::nullopt},
    {"RejectsValueBeyondInt64", "99999999999999999999999999", std::nullopt},
    {"RejectsSixtyFiveCharacters", std::string(60, '0') + "12.34", std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Table, MoneyParseAmountTest, testing::ValuesIn(kAmountCases),
                         [](const testing::TestParamInfo<AmountCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(MoneyTest, RejectsThreeFractionalDigitsWithClearMessage) {
  const Result<Money> result = Money::parse_amount("1.000");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::invalid_amount);
  EXPECT_NE(result.error().message.find("2 fractional digits"), std::string::npos);
}

TEST(MoneyTest, ExplainsWhyAnAmountIsRejected) {
  const auto message = [](std::string_view text) {
    return Money::parse_amount(text).error().message;
  };
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message(" 1").find("whitespace"), std::string::npos);
  EXPECT_NE(message("-1").find("sign"), std::string::npos);
  EXPECT_NE(message("1e2").find("exponent"), std::string::npos);
  EXPECT_NE(message("0.00").find("greater than 0.00"), std::string::npos);
  EXPECT_NE(message("1000000000.01").find("1000000000.00"), std::string::npos);
  EXPECT_NE(message("1.").find("after the decimal point"), std::string::npos);
  EXPECT_NE(message(".5").find("before the decimal point"), std::string::npos);
}

TEST(MoneyTest, BoundsAreInclusiveAtOneCentAndOneBillion) {
  EXPECT_EQ(Money::parse_amount("0.01")->minor(), 1);
  EXPECT_EQ(Money::parse_amount("999999999.99")->minor(), kMaxAmountMinor - 1);
  EXPECT_EQ(Money::parse_amount("1000000000.00")->minor(), kMaxAmountMinor);
  EXPECT_FALSE(Money::parse_amount("1000000000.01").ok());
  EXPECT_EQ(Money::parse_amount("1000000000.00")->to_string(), "1000000000.00");
}

TEST(MoneyTest, RejectsVeryLongInputsWithoutOverflow) {
  const std::string ten_thousand_nines(10000, '9');
  const std::vector<std::string> inputs = {
      std::string(10000, '1'),        ten_thousand_nines,
      ten_thousand_nines + ".99",     std::string(9999, '0') + "1",
      "1." + std::string(10000, '0'), "0." + std::string(10000, '0') + "1",
      std::string(10000, ' '),        std::string(10000, '-'),
  };
  for (const std::string& input : inputs) {
    const Result<Money> result = Money::parse_amount(input);
    ASSERT_FALSE(result.ok()) << input.substr(0, 20) << "...";
    EXPECT_EQ(result.error().code, ErrorCode::invalid_amount);
  }
}

TEST(MoneyTest, ParseThenFormatThenParseRoundTrips) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1", "1.00"},
      {"0.5", "0.50"},
      {"007.5", "7.50"},
      {"12.3", "12.30"},
      {"0.01", "0.01"},
      {"1234.5", "1234.50"},
      {"999999999.99", "999999999.99"},
      {"1000000000", "1000000000.00"},
  };
  for (const auto& [input, canonical] : cases) {
    const Result<Money> first = Money::parse_amount(input);
    ASSERT_TRUE(first.ok()) << input;
    EXPECT_EQ(first->to_string(), canonical);
    const Result<Money> second = Money::parse_amount(first->to_string());
    ASSERT_TRUE(second.ok()) << canonical;
    EXPECT_EQ(*second, *first);
  }
}

TEST(MoneyTest, EveryCentUpToTenThousandRoundTrips) {
  for (int64_t minor = 1; minor <= 1'000'000; ++minor) {
    const std::string text = format_minor_units(minor);
    const Result<Money> parsed = Money::parse_amount(text);
    ASSERT_TRUE(parsed.ok()) << text;
    ASSERT_EQ(parsed->minor(), minor) << text;
  }
}

TEST(MoneyTest, RandomAmountsRoundTrip) {
  std::mt19937_64 engine(12345);
  std::uniform_int_distribution<int64_t> amounts(1, kMaxAmountMinor);
  for (int i = 0; i < 100'000; ++i) {
    const int64_t minor = amounts(engine);
    const Result<Money> parsed = Money::parse_amount(Money::from_minor(minor).to_string());
    ASSERT_TRUE(parsed.ok()) << minor;
    ASSERT_EQ(parsed->minor(), minor);
  }
}

TEST(MoneyTest, FormatsExactlyTwoDecimals) {
  EXPECT_EQ(Money::from_minor(0).to_string(), "0.00");
  EXPECT_EQ(Money::from_minor(5).to_string(), "0.05");
  EXPECT_EQ(Money::from_minor(50).to_string(), "0.50");
  EXPECT_EQ(Money::from_minor(123450).to_string(), "1234.50");
  EXPECT_EQ(Money::from_minor(kMaxBalanceMinor).to_string(), "1000000000000000.00");
}

TEST(MoneyTest, FormatsNegatives) {
  EXPECT_EQ(Money::from_minor(-1230).to_string(), "-12.30");
  EXPECT_EQ(Money::from_minor(-5).to_string(), "-0.05");
  EXPECT_EQ(Money::from_minor(-100).to_string(), "-1.00");
  EXPECT_EQ(format_minor_units(-1), "-0.01");
}

TEST(MoneyTest, FormatsInt64Extremes) {
  EXPECT_EQ(format_minor_units(kInt64Min), "-92233720368547758.08");
  EXPECT_EQ(format_minor_units(kInt64Max), "92233720368547758.07");
  EXPECT_EQ(Money::from_minor(kInt64Min).to_string(), "-92233720368547758.08");
}

TEST(MoneyTest, ComparesByMinorUnits) {
  const Money one = Money::from_minor(100);
  const Money two = Money::from_minor(200);
  EXPECT_TRUE(one < two);
  EXPECT_TRUE(one <= two);
  EXPECT_TRUE(two > one);
  EXPECT_TRUE(two >= one);
  EXPECT_TRUE(one != two);
  EXPECT_TRUE(one == Money::from_minor(100));
  EXPECT_EQ(Money().minor(), 0);
  static_assert(Money::from_minor(7).minor() == 7);
}

struct MinorUnitsCase {
  const char* name;
  std::string input;
  std::optional<int64_t> minor;
};

class ParseMinorUnitsTest : public testing::TestWithParam<MinorUnitsCase> {};

TEST_P(ParseMinorUnitsTest, ReadsDatabaseNumericText) {
  const MinorUnitsCase& c = GetParam();
  EXPECT_EQ(parse_minor_units(c.input), c.minor) << "input \"" << c.input << "\"";
}

const std::vector<MinorUnitsCase> kMinorUnitsCases = {
    {"ReadsNegativeWithTwoDecimals", "-12.30", -1230},
    {"ReadsZeroWithDecimals", "0.00", 0},
    {"ReadsInteger", "15", 1500},
    {"ReadsOneDecimal", "0.5", 50},
    {"ReadsNegativeCents", "-0.05", -5},
    {"ReadsNegativeZero", "-0.00", 0},
    {"ReadsLeadingZeros", "0012.34", 1234},
    {"ReadsMaximumBalance", "1000000000000000.00", kMaxBalanceMinor},
    {"ReadsInt64Max", "92233720368547758.07", kInt64Max},
    {"ReadsInt64Min", "-92233720368547758.08", kInt64Min},
    {"RejectsEmpty", "", std::nullopt},
    {"RejectsLoneMinus", "-", std::nullopt},
    {"RejectsPlusSign", "+1.00", std::nullopt},
    {"RejectsOneAboveInt64Max", "92233720368547758.08", std::nullopt},
    {"RejectsOneBelowInt64Min", "-92233720368547758.09", std::nullopt},
    {"RejectsHugeInteger", "99999999999999999999999", std::nullopt},
    {"RejectsTenThousandDigits", std::string(10000, '9'), std::nullopt},
    {"RejectsTrailingDot", "1.", std::nullopt},
    {"RejectsLeadingDot", ".5", std::nullopt},
    {"RejectsThreeDecimals", "1.234", std::nullopt},
    {"RejectsExponent", "1e2", std::nullopt},
    {"RejectsSpaces", " 1.00", std::nullopt},
    {"RejectsLetters", "abc", std::nullopt},
    {"RejectsDoubleMinus", "--1", std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Table, ParseMinorUnitsTest, testing::ValuesIn(kMinorUnitsCases),
                         [](const testing::TestParamInfo<MinorUnitsCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(MoneyTest, DatabaseTextRoundTripsForExtremes) {
  for (const int64_t minor : {kInt64Min, kInt64Min + 1, int64_t{-1}, int64_t{0}, int64_t{1},
                              kMaxBalanceMinor, kInt64Max}) {
    EXPECT_EQ(parse_minor_units(format_minor_units(minor)), minor) << minor;
  }
}

TEST(MoneyTest, CheckedAddDetectsOverflowAndLeavesOutputUntouched) {
  int64_t out = 42;
  EXPECT_TRUE(checked_add(kMaxBalanceMinor, kMaxAmountMinor, out));
  EXPECT_EQ(out, kMaxBalanceMinor + kMaxAmountMinor);
  out = 42;
  EXPECT_FALSE(checked_add(kInt64Max, 1, out));
  EXPECT_EQ(out, 42);
  EXPECT_FALSE(checked_add(kInt64Min, -1, out));
  EXPECT_EQ(out, 42);
  EXPECT_TRUE(checked_add(kInt64Max, kInt64Min, out));
  EXPECT_EQ(out, -1);
}

TEST(MoneyTest, CheckedSubDetectsOverflowAndLeavesOutputUntouched) {
  int64_t out = 42;
  EXPECT_TRUE(checked_sub(1000, 1500, out));
  EXPECT_EQ(out, -500);
  out = 42;
  EXPECT_FALSE(checked_sub(kInt64Min, 1, out));
  EXPECT_EQ(out, 42);
  EXPECT_FALSE(checked_sub(0, kInt64Min, out));
  EXPECT_EQ(out, 42);
  EXPECT_TRUE(checked_sub(-1, kInt64Max, out));
  EXPECT_EQ(out, kInt64Min);
}

}  // namespace
}  // namespace wallet::domain
