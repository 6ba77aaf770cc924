// Unit tests of domain/currency: request amounts at a currency's exponent, bounds, rendering and
// database text at every exponent, the CURRENCIES configuration and the process-wide setting.
#include "domain/currency.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace wallet::domain {
namespace {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// parse_amount at max_scale 6 (every configured exponent) then to_minor(exponent).
Result<int64_t> minor_of(std::string_view text, int exponent, int max_scale = 6) {
  const Result<Amount> amount = parse_amount(text, max_scale);
  if (!amount) return amount.error();
  return amount->to_minor(exponent);
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- The currencies of SPEC.md section 8's examples ----

TEST(CurrencyAmountTest, JpyAcceptsWholeYen) {
  const Result<Amount> amount = parse_amount("1500", 3);
  ASSERT_TRUE(amount.ok()) << amount.error().message;
  EXPECT_EQ(amount->units, 1500);
  EXPECT_EQ(amount->scale, 0);
  const Result<int64_t> minor = amount->to_minor(0);
  ASSERT_TRUE(minor.ok()) << minor.error().message;
  EXPECT_EQ(*minor, 1500);
}

TEST(CurrencyAmountTest, JpyRejectsAFractionEvenIfItIsZero) {
  const Result<Amount> amount = parse_amount("1500.0", 3);
  ASSERT_TRUE(amount.ok()) << amount.error().message;
  EXPECT_EQ(amount->units, 15000);
  EXPECT_EQ(amount->scale, 1);
  const Result<int64_t> minor = amount->to_minor(0);
  ASSERT_FALSE(minor.ok()) << *minor;
  EXPECT_EQ(minor.error().code, ErrorCode::invalid_amount);
  EXPECT_EQ(minor.error().message,
            "amount has 1 fractional digit; this currency has no decimal places");
}

TEST(CurrencyAmountTest, KwdTakesThreeDecimals) {
  const Result<Amount> amount = parse_amount("1.500", 3);
  ASSERT_TRUE(amount.ok()) << amount.error().message;
  EXPECT_EQ(amount->units, 1500);
  EXPECT_EQ(amount->scale, 3);
  EXPECT_EQ(*amount->to_minor(3), 1500);
  EXPECT_EQ(*minor_of("0.001", 3), 1);
  EXPECT_EQ(*minor_of("1.5", 3), 1500);
}

TEST(CurrencyAmountTest, UsdTakesTwoDecimals) {
  EXPECT_EQ(*minor_of("12.30", 2), 1230);
  EXPECT_EQ(*minor_of("12.3", 2), 1230);
  EXPECT_EQ(*minor_of("12", 2), 1200);
  EXPECT_EQ(*minor_of("0.01", 2), 1);
}

TEST(CurrencyAmountTest, UsdRejectsThreeDecimalsInToMinor) {
  const Result<Amount> amount = parse_amount("12.345", 3);  // KWD is configured: parses
  ASSERT_TRUE(amount.ok()) << amount.error().message;
  const Result<int64_t> minor = amount->to_minor(2);
  ASSERT_FALSE(minor.ok()) << *minor;
  EXPECT_EQ(minor.error().code, ErrorCode::invalid_amount);
  EXPECT_EQ(minor.error().message,
            "amount has 3 fractional digits; this currency has 2 decimal places");
  // Trailing zeros count: "12.300" is three written digits too.
  EXPECT_FALSE(minor_of("12.300", 2).ok());
  EXPECT_EQ(minor_of("1.5", 0).error().message,
            "amount has 1 fractional digit; this currency has no decimal places");
  EXPECT_EQ(minor_of("1.55", 1).error().message,
            "amount has 2 fractional digits; this currency has 1 decimal place");
}

TEST(CurrencyAmountTest, ParseRejectsMoreDigitsThanMaxScale) {
  const Result<Amount> four = parse_amount("1.2345", 3);
  ASSERT_FALSE(four.ok());
  EXPECT_EQ(four.error().code, ErrorCode::invalid_amount);
  EXPECT_EQ(four.error().message, "amount must have at most 3 fractional digits");
  EXPECT_EQ(parse_amount("1.23", 1).error().message, "amount must have at most 1 fractional digit");
  EXPECT_EQ(parse_amount("1.0", 0).error().message,
            "amount must be a whole number, without a fraction");
  EXPECT_TRUE(parse_amount("1.123456", 6).ok());
  EXPECT_FALSE(parse_amount("1.1234567", 6).ok());
}

TEST(CurrencyAmountTest, ParseKeepsTheScaleAsWritten) {
  const Result<Amount> a = parse_amount("007.50", 3);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->units, 750);
  EXPECT_EQ(a->scale, 2);
  const Result<Amount> b = parse_amount("1.000", 3);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->units, 1000);
  EXPECT_EQ(b->scale, 3);
}

// ---- The grammar: the same as Money::parse_amount's ----

struct RejectCase {
  const char* name;
  std::string input;
  const char* message_part;  // a piece of the message saying why
};

class CurrencyParseAmountRejectsTest : public testing::TestWithParam<RejectCase> {};

TEST_P(CurrencyParseAmountRejectsTest, AsInvalidAmountSayingWhy) {
  const RejectCase& c = GetParam();
  for (int max_scale = 0; max_scale <= kMaxCurrencyExponent; ++max_scale) {
    const Result<Amount> result = parse_amount(c.input, max_scale);
    ASSERT_FALSE(result.ok()) << "\"" << c.input << "\" at max_scale " << max_scale << " parsed as "
                              << result->units << "e-" << result->scale;
    EXPECT_EQ(result.error().code, ErrorCode::invalid_amount);
    if (max_scale > 0 || !contains(c.input, ".") || contains(c.message_part, "point")) {
      EXPECT_TRUE(contains(result.error().message, c.message_part))
          << "\"" << c.input << "\": " << result.error().message;
    }
  }
}

const std::vector<RejectCase> kRejectCases = {
    {"Empty", "", "empty"},
    {"SpaceOnly", " ", "whitespace"},
    {"LeadingSpace", " 1", "whitespace"},
    {"TrailingTab", "1\t", "whitespace"},
    {"Minus", "-1", "sign"},
    {"NegativeZero", "-0", "sign"},
    {"Plus", "+1", "sign"},
    {"TrailingDot", "1.", "after the decimal point"},
    {"LeadingDot", ".5", "before the decimal point"},
    {"DotOnly", ".", "before the decimal point"},
    {"TwoDots", "1.2.3", "decimal number"},
    {"Comma", "1,50", "decimal number"},
    {"Exponent", "1e2", "exponent"},
    {"UpperExponent", "1E2", "exponent"},
    {"Hex", "0x10", "decimal number"},
    {"NaN", "NaN", "decimal number"},
    {"Infinity", "Infinity", "decimal number"},
    {"CurrencyCode", "10USD", "decimal number"},
    {"EmbeddedNul", std::string("1\0", 2), "decimal number"},
    {"FullWidthDigit", "\xef\xbc\x91", "decimal number"},
    {"Zero", "0", "greater than 0"},
    {"ZeroWithDecimal", "0.0", "greater than 0"},
    {"ManyZeros", "0000", "greater than 0"},
    {"ElevenDigits", "10000000000", "1000000000"},
    {"BeyondInt64", "99999999999999999999999999", "1000000000"},
    {"SixtyFiveCharacters", std::string(63, '0') + "12", "too long"},
};

INSTANTIATE_TEST_SUITE_P(Table, CurrencyParseAmountRejectsTest, testing::ValuesIn(kRejectCases),
                         [](const testing::TestParamInfo<RejectCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(CurrencyAmountTest, AcceptsSixtyFourCharactersAndLeadingZeros) {
  EXPECT_EQ(*minor_of(std::string(62, '0') + "12", 0), 12);
  EXPECT_EQ(*minor_of(std::string(59, '0') + "1.234", 3), 1234);
  EXPECT_EQ(*minor_of("0001000000000.00", 2), 100'000'000'000);
}

TEST(CurrencyAmountTest, RejectsVeryLongInputsWithoutOverflow) {
  const std::vector<std::string> inputs = {std::string(10000, '9'), "1." + std::string(10000, '0'),
                                           std::string(9999, '0') + "1"};
  for (const std::string& input : inputs) {
    const Result<Amount> result = parse_amount(input, 6);
    ASSERT_FALSE(result.ok()) << input.substr(0, 20);
    EXPECT_EQ(result.error().code, ErrorCode::invalid_amount);
  }
}

TEST(CurrencyAmountTest, MaxScaleOutsideTheExponentRangeIsAnInternalError) {
  EXPECT_EQ(parse_amount("1", -1).error().code, ErrorCode::internal);
  EXPECT_EQ(parse_amount("1", 7).error().code, ErrorCode::internal);
  EXPECT_EQ((Amount{1, 0}.to_minor(7).error().code), ErrorCode::internal);
  EXPECT_EQ((Amount{1, 0}.to_minor(-1).error().code), ErrorCode::internal);
}

// ---- Bounds ----

TEST(CurrencyBoundsTest, PowersOfTen) {
  int64_t expected = 1;
  for (int e = 0; e <= 18; ++e) {
    EXPECT_EQ(pow10(e), expected) << e;
    if (e < 18) expected *= 10;
  }
  EXPECT_EQ(pow10(-1), 0);
  EXPECT_EQ(pow10(19), 0);
}

TEST(CurrencyBoundsTest, MaxAmountIsOneBillionMajorUnits) {
  EXPECT_EQ(max_amount_minor(0), 1'000'000'000);
  EXPECT_EQ(max_amount_minor(2), 100'000'000'000);
  EXPECT_EQ(max_amount_minor(3), 1'000'000'000'000);
  EXPECT_EQ(max_amount_minor(6), 1'000'000'000'000'000);
  EXPECT_EQ(max_amount_minor(-1), 0);
  EXPECT_EQ(max_amount_minor(7), 0);
}

TEST(CurrencyBoundsTest, MaxBalanceIsTenToTheFifteenMajorUnitsCappedAtTenToTheEighteen) {
  EXPECT_EQ(max_balance_minor(0), 1'000'000'000'000'000);
  EXPECT_EQ(max_balance_minor(2), 100'000'000'000'000'000);
  EXPECT_EQ(max_balance_minor(3), 1'000'000'000'000'000'000);
  for (int e = 4; e <= kMaxCurrencyExponent; ++e) {
    EXPECT_EQ(max_balance_minor(e), 1'000'000'000'000'000'000) << e;
  }
  EXPECT_EQ(max_balance_minor(7), 0);
  // A capped balance plus (or minus) a maximal amount never overflows.
  for (int e = 0; e <= kMaxCurrencyExponent; ++e) {
    int64_t sum = 0;
    EXPECT_FALSE(__builtin_add_overflow(max_balance_minor(e), max_amount_minor(e), &sum)) << e;
    EXPECT_FALSE(__builtin_sub_overflow(-max_balance_minor(e), max_amount_minor(e), &sum)) << e;
  }
}

TEST(CurrencyBoundsTest, OneBillionMajorUnitsIsTheLargestAmountAtExponentsZeroTwoThree) {
  struct Case {
    int exponent;
    const char* max_text;
    const char* above_text;  // one minor unit more
  };
  for (const Case& c :
       {Case{0, "1000000000", "1000000001"}, Case{2, "1000000000.00", "1000000000.01"},
        Case{3, "1000000000.000", "1000000000.001"}}) {
    const Result<int64_t> max = minor_of(c.max_text, c.exponent);
    ASSERT_TRUE(max.ok()) << c.max_text << ": " << max.error().message;
    EXPECT_EQ(*max, max_amount_minor(c.exponent));
    EXPECT_EQ(*minor_of("1000000000", c.exponent), max_amount_minor(c.exponent));
    EXPECT_EQ(*minor_of(format_minor(max_amount_minor(c.exponent) - 1, c.exponent), c.exponent),
              max_amount_minor(c.exponent) - 1);

    const Result<int64_t> above = minor_of(c.above_text, c.exponent);
    ASSERT_FALSE(above.ok()) << c.above_text << " gave " << *above;
    EXPECT_EQ(above.error().code, ErrorCode::invalid_amount);
    EXPECT_TRUE(contains(above.error().message, "1000000000")) << above.error().message;
    EXPECT_FALSE(minor_of("1000000001", c.exponent).ok());
    EXPECT_FALSE(minor_of("9999999999", c.exponent).ok());
  }
}

TEST(CurrencyBoundsTest, ToMinorChecksTheRangeOfHandBuiltAmounts) {
  for (int e = 0; e <= kMaxCurrencyExponent; ++e) {
    const int64_t max = max_amount_minor(e);
    EXPECT_EQ(*Amount::minor(max, e).to_minor(e), max) << e;
    EXPECT_EQ(*Amount::minor(1, e).to_minor(e), 1) << e;
    const Result<int64_t> above = Amount::minor(max + 1, e).to_minor(e);
    ASSERT_FALSE(above.ok()) << e;
    EXPECT_EQ(above.error().code, ErrorCode::invalid_amount);
    EXPECT_EQ(above.error().message, "amount must not exceed " + format_minor(max, e));
    EXPECT_EQ(Amount::minor(0, e).to_minor(e).error().code, ErrorCode::invalid_amount);
    EXPECT_EQ(Amount::minor(-1, e).to_minor(e).error().code, ErrorCode::invalid_amount);
    EXPECT_FALSE(Amount::minor(kInt64Max, e).to_minor(e).ok());
    EXPECT_FALSE(Amount::minor(kInt64Min, e).to_minor(e).ok());
  }
  EXPECT_EQ((Amount{1, -1}.to_minor(2).error().code), ErrorCode::invalid_amount);
  // A smaller scale is scaled up to the exponent.
  EXPECT_EQ(*(Amount{15, 1}.to_minor(6)), 1'500'000);
}

// ---- Rendering and database text ----

TEST(CurrencyFormatTest, ZeroAtEachExponent) {
  EXPECT_EQ(format_minor(0, 0), "0");
  EXPECT_EQ(format_minor(0, 1), "0.0");
  EXPECT_EQ(format_minor(0, 2), "0.00");
  EXPECT_EQ(format_minor(0, 3), "0.000");
  EXPECT_EQ(format_minor(0, 6), "0.000000");
}

TEST(CurrencyFormatTest, PositivesAtEachExponent) {
  EXPECT_EQ(format_minor(150, 2), "1.50");
  EXPECT_EQ(format_minor(1500, 0), "1500");
  EXPECT_EQ(format_minor(1500, 3), "1.500");
  EXPECT_EQ(format_minor(5, 2), "0.05");
  EXPECT_EQ(format_minor(1, 6), "0.000001");
  EXPECT_EQ(format_minor(123456789, 3), "123456.789");
}

TEST(CurrencyFormatTest, NegativesAtEachExponent) {
  EXPECT_EQ(format_minor(-1500, 0), "-1500");
  EXPECT_EQ(format_minor(-1230, 2), "-12.30");
  EXPECT_EQ(format_minor(-5, 2), "-0.05");
  EXPECT_EQ(format_minor(-1500, 3), "-1.500");
  EXPECT_EQ(format_minor(-1, 3), "-0.001");
  EXPECT_EQ(format_minor(-1, 6), "-0.000001");
}

TEST(CurrencyFormatTest, Int64Extremes) {
  EXPECT_EQ(format_minor(kInt64Min, 0), "-9223372036854775808");
  EXPECT_EQ(format_minor(kInt64Min, 2), "-92233720368547758.08");
  EXPECT_EQ(format_minor(kInt64Min, 3), "-9223372036854775.808");
  EXPECT_EQ(format_minor(kInt64Min, 6), "-9223372036854.775808");
  EXPECT_EQ(format_minor(kInt64Max, 0), "9223372036854775807");
  EXPECT_EQ(format_minor(kInt64Max, 6), "9223372036854.775807");
  EXPECT_EQ(format_minor(kInt64Min, 18), "-9.223372036854775808");
  EXPECT_EQ(format_minor(kInt64Min, 19), "-9.223372036854775808");  // clamped to 18
  EXPECT_EQ(format_minor(-5, -3), "-5");                            // clamped to 0
}

TEST(CurrencyFormatTest, ParseStoredMinorTable) {
  struct Case {
    std::string text;
    int exponent;
    std::optional<int64_t> minor;
  };
  const std::vector<Case> cases = {
      {"-1.500", 3, -1500},
      {"1.500", 3, 1500},
      {"15", 2, 1500},
      {"15", 0, 15},
      {"15", 3, 15000},
      {"1.5", 2, 150},
      {"1.5", 3, 1500},
      {"0", 2, 0},
      {"-0", 2, 0},
      {"-0.00", 2, 0},
      {"0.001", 3, 1},
      {"007.50", 2, 750},
      // Digits beyond the exponent: zeros are accepted, anything else is not.
      {"1.50", 0, std::nullopt},
      {"1.5", 0, std::nullopt},
      {"1.00", 0, 1},
      {"1.0", 0, 1},
      {"1.5000", 2, 150},
      {"1.501", 2, std::nullopt},
      {"1.500000000000000000000000", 3, 1500},
      {"1.000000000000000000000001", 3, std::nullopt},
      // Not numeric text.
      {"", 2, std::nullopt},
      {"-", 2, std::nullopt},
      {"1.", 2, std::nullopt},
      {".5", 2, std::nullopt},
      {"-.5", 2, std::nullopt},
      {"+1", 2, std::nullopt},
      {"--1", 2, std::nullopt},
      {" 1", 2, std::nullopt},
      {"1 ", 2, std::nullopt},
      {"1e2", 2, std::nullopt},
      {"NaN", 2, std::nullopt},
      {"Infinity", 2, std::nullopt},
      {"1,5", 2, std::nullopt},
      {"1.2.3", 2, std::nullopt},
      // int64's edges.
      {"9223372036854775807", 0, kInt64Max},
      {"9223372036854775808", 0, std::nullopt},
      {"-9223372036854775808", 0, kInt64Min},
      {"-9223372036854775809", 0, std::nullopt},
      {"-92233720368547758.08", 2, kInt64Min},
      {"-92233720368547758.09", 2, std::nullopt},
      {"92233720368547758.07", 2, kInt64Max},
      {"92233720368547758.08", 2, std::nullopt},
      {"9223372036854.775807", 6, kInt64Max},
      {"9223372036854.775808", 6, std::nullopt},
      {"99999999999999999999999", 0, std::nullopt},
      {"9223372036854775807", 1, std::nullopt},
      // Exponent out of range.
      {"1", -1, std::nullopt},
      {"1", 19, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_stored_minor(c.text, c.exponent), c.minor)
        << "\"" << c.text << "\" at " << c.exponent;
  }
}

TEST(CurrencyFormatTest, FormatThenParseStoredRoundTripsAtEveryExponent) {
  std::vector<int64_t> values = {
      0, 1, -1, 5, -5, 1500, -1500, kInt64Max, kInt64Min, kInt64Min + 1, kInt64Max - 1};
  std::mt19937_64 engine(20240501);
  for (int i = 0; i < 20'000; ++i) values.push_back(static_cast<int64_t>(engine()));
  for (int e = 0; e <= 18; ++e) {
    for (int64_t value : values) {
      const std::string text = format_minor(value, e);
      ASSERT_EQ(parse_stored_minor(text, e), value) << text << " at " << e;
    }
  }
}

TEST(CurrencyFormatTest, EveryAcceptedAmountRoundTripsThroughItsText) {
  std::mt19937_64 engine(7);
  for (int e = 0; e <= kMaxCurrencyExponent; ++e) {
    std::uniform_int_distribution<int64_t> amounts(1, max_amount_minor(e));
    for (int i = 0; i < 10'000; ++i) {
      const int64_t minor = i < 100 ? i + 1 : amounts(engine);
      const std::string text = format_minor(minor, e);
      const Result<Amount> parsed = parse_amount(text, e);
      ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
      ASSERT_EQ(parsed->scale, e) << text;
      ASSERT_EQ(*parsed->to_minor(e), minor) << text;
    }
  }
}

// ---- Canonical text ----

TEST(CurrencyAmountTest, CanonicalTextIsEqualForEqualValues) {
  const auto canonical = [](std::string_view text) { return parse_amount(text, 6)->canonical(); };
  EXPECT_EQ(canonical("1.5"), "1.5");
  EXPECT_EQ(canonical("1.50"), "1.5");
  EXPECT_EQ(canonical("1.5"), canonical("1.50"));
  EXPECT_EQ(canonical("001.500000"), "1.5");
  EXPECT_EQ(canonical("1500"), "1500");
  EXPECT_EQ(canonical("1500.000"), "1500");
  EXPECT_EQ(canonical("0.05"), "0.05");
  EXPECT_EQ(canonical("0.050"), "0.05");
  EXPECT_EQ(canonical("10"), "10");
  EXPECT_EQ(canonical("10.0"), "10");
  EXPECT_NE(canonical("1.5"), canonical("15"));
  EXPECT_NE(canonical("1.05"), canonical("1.5"));
  EXPECT_EQ(Amount::minor(150, 2).canonical(), "1.5");
  EXPECT_EQ(Amount::minor(1500, 0).canonical(), "1500");
  EXPECT_EQ(Amount::minor(1500, 3).canonical(), "1.5");
  EXPECT_EQ(Amount::minor(0, 2).canonical(), "0");
  EXPECT_EQ(Amount::minor(-250, 2).canonical(), "-2.5");
  EXPECT_EQ(Amount::minor(kInt64Min, 2).canonical(), "-92233720368547758.08");
}

// ---- CURRENCIES ----

TEST(CurrenciesTest, DefaultsAreTheSpecsFive) {
  const Currencies currencies = Currencies::defaults();
  ASSERT_EQ(currencies.all().size(), 5u);
  const std::vector<std::pair<std::string, int>> expected = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KWD", 3}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(currencies.all()[i].code, expected[i].first);
    EXPECT_EQ(currencies.all()[i].exponent, expected[i].second);
  }
  EXPECT_EQ(currencies.default_currency().code, "USD");
  EXPECT_EQ(currencies.max_exponent(), 3);
  ASSERT_NE(currencies.find("JPY"), nullptr);
  EXPECT_EQ(currencies.find("JPY")->exponent, 0);
  EXPECT_EQ(currencies.find("jpy"), nullptr);
  EXPECT_EQ(currencies.find("XXX"), nullptr);
  EXPECT_EQ(currencies.find(""), nullptr);
}

TEST(CurrenciesTest, ParsesTheDefaultConfiguration) {
  const Result<Currencies> parsed = Currencies::parse("USD:2,EUR:2,GBP:2,JPY:0,KWD:3", "USD");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Currencies defaults = Currencies::defaults();
  ASSERT_EQ(parsed->all().size(), defaults.all().size());
  for (size_t i = 0; i < defaults.all().size(); ++i) {
    EXPECT_EQ(parsed->all()[i].code, defaults.all()[i].code);
    EXPECT_EQ(parsed->all()[i].exponent, defaults.all()[i].exponent);
  }
  EXPECT_EQ(parsed->default_currency().code, "USD");
}

TEST(CurrenciesTest, ParsesGoodConfigurations) {
  const Result<Currencies> spaced = Currencies::parse("  EUR:2 ,\tJPY:0 , BTC_SAT:6  ", " JPY ");
  ASSERT_TRUE(spaced.ok()) << spaced.error().message;
  ASSERT_EQ(spaced->all().size(), 3u);
  EXPECT_EQ(spaced->all()[0].code, "EUR");
  EXPECT_EQ(spaced->all()[2].code, "BTC_SAT");
  EXPECT_EQ(spaced->all()[2].exponent, 6);
  EXPECT_EQ(spaced->default_currency().code, "JPY");
  EXPECT_EQ(spaced->default_currency().exponent, 0);
  EXPECT_EQ(spaced->max_exponent(), 6);

  const Result<Currencies> single = Currencies::parse("JPY:0", "JPY");
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_EQ(single->max_exponent(), 0);

  const Result<Currencies> long_code = Currencies::parse("ABCDEFGHIJ12:00,X1_:4", "X1_");
  ASSERT_TRUE(long_code.ok()) << long_code.error().message;
  EXPECT_EQ(long_code->all()[0].exponent, 0);
  EXPECT_EQ(long_code->default_currency().exponent, 4);
}

struct BadConfig {
  const char* name;
  std::string config;
  std::string default_code;
  const char* message_part;  // names the bad item (or says what is wrong)
};

class CurrenciesParseRejectsTest : public testing::TestWithParam<BadConfig> {};

TEST_P(CurrenciesParseRejectsTest, AsBadRequestNamingTheItem) {
  const BadConfig& c = GetParam();
  const Result<Currencies> result = Currencies::parse(c.config, c.default_code);
  ASSERT_FALSE(result.ok()) << "\"" << c.config << "\" was accepted";
  EXPECT_EQ(result.error().code, ErrorCode::bad_request);
  EXPECT_TRUE(contains(result.error().message, c.message_part)) << result.error().message;
}

const std::vector<BadConfig> kBadConfigs = {
    {"Empty", "", "USD", "at least one currency"},
    {"Blank", "  ", "USD", "at least one currency"},
    {"Duplicate", "USD:2,EUR:2,USD:2", "USD", "item 3 \"USD:2\": USD is listed twice"},
    {"DuplicateWithOtherExponent", "USD:2,USD:3", "USD", "USD is listed twice"},
    {"LowercaseCode", "USD:2,eur:2", "USD", "item 2 \"eur:2\": the code must be"},
    {"ShortCode", "US:2", "US", "\"US:2\": the code must be"},
    {"LongCode", "ABCDEFGHIJKLM:2", "USD", "\"ABCDEFGHIJKLM:2\": the code must be"},
    {"HyphenInCode", "US-D:2", "USD", "\"US-D:2\": the code must be"},
    {"SpaceInCode", "U SD:2", "USD", "\"U SD:2\": the code must be"},
    {"EmptyCode", ":2", "USD", "\":2\": the code must be"},
    {"ExponentSeven", "USD:2,XBT:7", "USD", "\"XBT:7\": the exponent 7 is outside 0..6"},
    {"ExponentEighteen", "USD:18", "USD", "\"USD:18\": the exponent 18 is outside 0..6"},
    {"NegativeExponent", "USD:-1", "USD", "\"USD:-1\": the exponent must be a number"},
    {"ExponentNotANumber", "USD:two", "USD", "\"USD:two\": the exponent must be a number"},
    {"ExponentMissing", "USD:", "USD", "\"USD:\": the exponent after ':' is missing"},
    {"SpaceAfterColon", "USD: 2", "USD", "\"USD: 2\": the exponent must be a number"},
    {"NoColon", "USD", "USD", "\"USD\": must be CODE:EXPONENT"},
    {"TwoColons", "USD:2:3", "USD", "\"USD:2:3\": must be CODE:EXPONENT"},
    {"EmptyItem", "USD:2,,EUR:2", "USD", "item 2 is empty"},
    {"TrailingComma", "USD:2,", "USD", "item 2 is empty"},
    {"ControlCharacter", "USD:2,E\x01R:2", "USD", "\"E\\x01R:2\""},
    {"MissingDefault", "USD:2,EUR:2", "GBP", "DEFAULT_CURRENCY \"GBP\" is not one of CURRENCIES"},
    {"EmptyDefault", "USD:2", "", "DEFAULT_CURRENCY \"\" is not one of CURRENCIES (USD)"},
    {"LowercaseDefault", "USD:2", "usd", "DEFAULT_CURRENCY \"usd\""},
};

INSTANTIATE_TEST_SUITE_P(Table, CurrenciesParseRejectsTest, testing::ValuesIn(kBadConfigs),
                         [](const testing::TestParamInfo<BadConfig>& info) {
                           return std::string(info.param.name);
                         });

TEST(CurrenciesTest, ConfiguredCurrenciesAreTheDefaultsUntilSet) {
  // Other tests in this process do not set it; this one restores what it found.
  const Currencies before = configured_currencies();
  EXPECT_EQ(before.default_currency().code, "USD");
  EXPECT_EQ(before.all().size(), Currencies::defaults().all().size());

  const Result<Currencies> parsed = Currencies::parse("EUR:2,JPY:0", "JPY");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  set_configured_currencies(*parsed);
  EXPECT_EQ(configured_currencies().default_currency().code, "JPY");
  EXPECT_EQ(configured_currencies().all().size(), 2u);
  EXPECT_EQ(configured_currencies().find("USD"), nullptr);

  set_configured_currencies(Currencies());  // empty: ignored
  EXPECT_EQ(configured_currencies().default_currency().code, "JPY");

  set_configured_currencies(before);
  EXPECT_EQ(configured_currencies().default_currency().code, "USD");
  EXPECT_EQ(configured_currencies().max_exponent(), 3);
}

}  // namespace
}  // namespace wallet::domain
