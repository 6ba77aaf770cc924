// Exact decimal amounts at a currency's exponent (SPEC.md section 8): bounds, an amount as written,
// parsing and formatting. Integers only: digits are accumulated into int64/uint64 with explicit
// bounds or overflow checks, never a float.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/currency.hpp"
#include "domain/currency_internal.hpp"

namespace wallet::domain {
namespace {

using currency_internal::is_digit;

// Request amounts longer than this are rejected before any digit is looked at (as Money's).
constexpr std::size_t kMaxAmountText = 64;
// 1000000000 has 10 digits: an integer part with more significant digits is over the cap, and
// rejecting it before accumulating keeps the arithmetic below far away from overflow.
constexpr std::size_t kMaxAmountIntegerDigits = 10;
constexpr int64_t kMaxAmountMajor = 1'000'000'000;
constexpr int kMaxBalanceMajorDigits = 15;
constexpr int kMaxPow10 = 18;
// The largest exponent format_minor and parse_stored_minor work at.
constexpr int kMaxTextExponent = 18;

constexpr int64_t kPowersOfTen[kMaxPow10 + 1] = {
    1,
    10,
    100,
    1'000,
    10'000,
    100'000,
    1'000'000,
    10'000'000,
    100'000'000,
    1'000'000'000,
    10'000'000'000,
    100'000'000'000,
    1'000'000'000'000,
    10'000'000'000'000,
    100'000'000'000'000,
    1'000'000'000'000'000,
    10'000'000'000'000'000,
    100'000'000'000'000'000,
    1'000'000'000'000'000'000,
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool valid_exponent(int exponent) { return exponent >= 0 && exponent <= kMaxCurrencyExponent; }

Error amount_error(std::string message) {
  return Error{ErrorCode::invalid_amount, std::move(message)};
}

// "1 fractional digit", "3 fractional digits".
std::string count_of(int64_t n, const char* singular, const char* plural) {
  return std::to_string(n) + ' ' + (n == 1 ? singular : plural);
}

// The magnitude of an int64 as uint64: exact for INT64_MIN too (negated in unsigned arithmetic).
uint64_t magnitude_of(int64_t value) {
  return value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
}

// The decimal text of (negative ? -1 : 1) * magnitude * 10^-scale with exactly `scale` fractional
// digits (none, and no point, for scale 0). "-0..." is never produced. scale >= 0.
std::string decimal_text(uint64_t magnitude, bool negative, int scale) {
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= static_cast<std::size_t>(scale)) {
    digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
  }
  std::string out = negative && magnitude != 0 ? "-" : "";
  const std::size_t integer_digits = digits.size() - static_cast<std::size_t>(scale);
  out.append(digits, 0, integer_digits);
  if (scale > 0) {
    out += '.';
    out.append(digits, integer_digits, std::string::npos);
  }
  return out;
}

}  // namespace

// ---- Bounds ----

int64_t pow10(int exponent) {
  if (exponent < 0 || exponent > kMaxPow10) return 0;
  return kPowersOfTen[exponent];
}

int64_t max_amount_minor(int exponent) {
  if (!valid_exponent(exponent)) return 0;
  return kMaxAmountMajor * pow10(exponent);
}

int64_t max_balance_minor(int exponent) {
  if (!valid_exponent(exponent)) return 0;
  return pow10(std::min(kMaxBalanceMajorDigits + exponent, kMaxPow10));
}

// ---- Amount ----

Result<int64_t> Amount::to_minor(int exponent) const {
  if (!valid_exponent(exponent)) {
    return Error{ErrorCode::internal, "currency exponent " + std::to_string(exponent) +
                                          " is outside 0.." + std::to_string(kMaxCurrencyExponent)};
  }
  if (scale < 0) return amount_error("amount has a negative number of fractional digits");
  if (scale > exponent) {
    return amount_error("amount has " + count_of(scale, "fractional digit", "fractional digits") +
                        "; this currency has " +
                        (exponent == 0 ? std::string("no decimal places")
                                       : count_of(exponent, "decimal place", "decimal places")));
  }
  if (units <= 0) return amount_error("amount must be greater than 0");
  // units * 10^(exponent - scale) <= max_amount_minor(exponent) <=> units <= 10^9 * 10^scale,
  // checked before multiplying so that nothing can overflow.
  if (units > kMaxAmountMajor * pow10(scale)) {
    return amount_error("amount must not exceed " +
                        format_minor(max_amount_minor(exponent), exponent));
  }
  return units * pow10(exponent - scale);
}

std::string Amount::canonical() const {
  const bool negative = units < 0;
  const uint64_t magnitude = magnitude_of(units);
  // A negative scale is not an amount (to_minor rejects it); it is written as scale 0 here.
  if (scale <= 0) return decimal_text(magnitude, negative, 0);
  std::string out = decimal_text(magnitude, negative, scale);
  while (out.back() == '0') out.pop_back();  // a point precedes the fraction, so this stops
  if (out.back() == '.') out.pop_back();
  return out;
}

// ---- Text ----

namespace {

// What is wrong with the text before its digits are read: empty, too long, spaces, a sign, no
// leading digit.
std::optional<Error> misshapen(std::string_view text) {
  if (text.empty()) return amount_error("amount must not be empty");
  if (text.size() > kMaxAmountText) {
    return amount_error("amount is too long (at most 64 characters)");
  }
  for (char c : text) {
    if (is_space(c)) return amount_error("amount must not contain whitespace");
  }
  if (text.front() == '-') return amount_error("amount must be positive, without a sign");
  if (text.front() == '+') return amount_error("amount must be written without a sign");
  if (text.front() == '.') {
    return amount_error("amount must have at least one digit before the decimal point");
  }
  return std::nullopt;
}

}  // namespace

Result<Amount> parse_amount(std::string_view text, int max_scale) {
  if (!valid_exponent(max_scale)) {
    return Error{ErrorCode::internal, "amount scale " + std::to_string(max_scale) +
                                          " is outside 0.." + std::to_string(kMaxCurrencyExponent)};
  }
  if (auto error = misshapen(text)) return *error;

  std::size_t pos = 0;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  const std::size_t integer_end = pos;
  if (integer_end == 0) {
    return amount_error("amount must be a decimal number like \"12.34\"");
  }

  std::size_t fraction_begin = integer_end;
  std::size_t fraction_digits = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    fraction_begin = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    fraction_digits = pos - fraction_begin;
    if (fraction_digits == 0 && pos == text.size()) {
      return amount_error("amount must have digits after the decimal point");
    }
  }
  if (pos != text.size()) {
    const char c = text[pos];
    if (c == 'e' || c == 'E') return amount_error("amount must not use exponent notation");
    return amount_error("amount must be a decimal number like \"12.34\"");
  }
  if (fraction_digits > static_cast<std::size_t>(max_scale)) {
    if (max_scale == 0) return amount_error("amount must be a whole number, without a fraction");
    return amount_error("amount must have at most " +
                        count_of(max_scale, "fractional digit", "fractional digits"));
  }

  // The bound as written at the largest scale ("1000000000.00" for 2).
  const std::string bound = format_minor(kMaxAmountMajor * pow10(max_scale), max_scale);
  std::size_t first_significant = 0;
  while (first_significant < integer_end && text[first_significant] == '0') ++first_significant;
  if (integer_end - first_significant > kMaxAmountIntegerDigits) {
    return amount_error("amount must not exceed " + bound);
  }

  // At most 10 integer digits and 6 fractional ones: below 10^17, no overflow.
  int64_t units = 0;
  for (std::size_t i = first_significant; i < integer_end; ++i) {
    units = units * 10 + (text[i] - '0');
  }
  for (std::size_t i = fraction_begin; i < fraction_begin + fraction_digits; ++i) {
    units = units * 10 + (text[i] - '0');
  }
  const int scale = static_cast<int>(fraction_digits);

  if (units == 0) return amount_error("amount must be greater than " + format_minor(0, max_scale));
  if (units > kMaxAmountMajor * pow10(scale)) {
    return amount_error("amount must not exceed " + bound);
  }
  return Amount{units, scale};
}

std::string format_minor(int64_t minor, int exponent) {
  const int scale = std::clamp(exponent, 0, kMaxTextExponent);
  return decimal_text(magnitude_of(minor), minor < 0, scale);
}

namespace currency_internal {

std::optional<int64_t> parse_minor_text(std::string_view text, int exponent,
                                        bool zeros_beyond_exponent) {
  std::size_t pos = 0;
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) ++pos;

  // Accumulate the magnitude unsigned so that INT64_MIN itself is representable.
  uint64_t magnitude = 0;
  std::size_t integer_digits = 0;
  for (; pos < text.size() && is_digit(text[pos]); ++pos, ++integer_digits) {
    if (__builtin_mul_overflow(magnitude, uint64_t{10}, &magnitude) ||
        __builtin_add_overflow(magnitude, uint64_t(text[pos] - '0'), &magnitude)) {
      return std::nullopt;
    }
  }
  if (integer_digits == 0) return std::nullopt;

  // The first `exponent` fractional digits, right-padded with zeros to `exponent` digits; any
  // further digit must be a zero (numeric columns of a larger scale print them), where allowed.
  uint64_t fraction = 0;
  int kept = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t fraction_digits = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos, ++fraction_digits) {
      if (kept < exponent) {
        fraction = fraction * 10 + uint64_t(text[pos] - '0');
        ++kept;
      } else if (!zeros_beyond_exponent || text[pos] != '0') {
        return std::nullopt;
      }
    }
    if (fraction_digits == 0) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  fraction *= static_cast<uint64_t>(pow10(exponent - kept));  // < 10^18: no overflow

  if (__builtin_mul_overflow(magnitude, static_cast<uint64_t>(pow10(exponent)), &magnitude) ||
      __builtin_add_overflow(magnitude, fraction, &magnitude)) {
    return std::nullopt;
  }
  constexpr uint64_t kMaxPositive = uint64_t{INT64_MAX};
  if (!negative) {
    if (magnitude > kMaxPositive) return std::nullopt;
    return static_cast<int64_t>(magnitude);
  }
  if (magnitude > kMaxPositive + 1) return std::nullopt;
  if (magnitude == kMaxPositive + 1) return INT64_MIN;
  return -static_cast<int64_t>(magnitude);
}

}  // namespace currency_internal

std::optional<int64_t> parse_stored_minor(std::string_view text, int exponent) {
  if (exponent < 0 || exponent > kMaxTextExponent) return std::nullopt;
  return currency_internal::parse_minor_text(text, exponent, /*zeros_beyond_exponent=*/true);
}

}  // namespace wallet::domain
