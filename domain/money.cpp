// Exact decimal parsing and formatting of money; the only place amounts are turned into numbers.
#include "domain/money.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>

namespace wallet::domain {
namespace {

// 1000000000 has 10 digits: an integer part with more significant digits is over the cap, and
// rejecting it before accumulating keeps the arithmetic below far away from overflow.
constexpr std::size_t kMaxAmountIntegerDigits = 10;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Error amount_error(std::string message) {
  return Error{ErrorCode::invalid_amount, std::move(message)};
}

}  // namespace

Result<Money> Money::parse_amount(std::string_view text) {
  if (text.empty()) return amount_error("amount must not be empty");
  if (text.size() > kMaxAmountTextLength) {
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
  if (fraction_digits > 2) return amount_error("amount must have at most 2 fractional digits");

  std::size_t first_significant = 0;
  while (first_significant < integer_end && text[first_significant] == '0') ++first_significant;
  if (integer_end - first_significant > kMaxAmountIntegerDigits) {
    return amount_error("amount must not exceed 1000000000.00");
  }

  int64_t minor = 0;
  for (std::size_t i = first_significant; i < integer_end; ++i) {
    minor = minor * 10 + (text[i] - '0');
  }
  minor *= 100;
  if (fraction_digits >= 1) minor += (text[fraction_begin] - '0') * 10;
  if (fraction_digits == 2) minor += text[fraction_begin + 1] - '0';

  if (minor == 0) return amount_error("amount must be greater than 0.00");
  if (minor > kMaxAmountMinor) return amount_error("amount must not exceed 1000000000.00");
  return Money(minor);
}

std::string Money::to_string() const { return format_minor_units(minor_); }

std::optional<int64_t> parse_minor_units(std::string_view text) {
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

  uint64_t cents = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t fraction_digits = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos, ++fraction_digits) {
      if (fraction_digits == 2) return std::nullopt;
      cents = cents * 10 + uint64_t(text[pos] - '0');
    }
    if (fraction_digits == 0) return std::nullopt;
    if (fraction_digits == 1) cents *= 10;
  }
  if (pos != text.size()) return std::nullopt;

  if (__builtin_mul_overflow(magnitude, uint64_t{100}, &magnitude) ||
      __builtin_add_overflow(magnitude, cents, &magnitude)) {
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

std::string format_minor_units(int64_t minor) {
  // Negate in unsigned arithmetic: -INT64_MIN is undefined for int64 but exact for uint64.
  const bool negative = minor < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  const uint64_t cents = magnitude % 100;
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  return out;
}

bool checked_add(int64_t a, int64_t b, int64_t& out) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return false;
  out = sum;
  return true;
}

bool checked_sub(int64_t a, int64_t b, int64_t& out) {
  int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) return false;
  out = difference;
  return true;
}

}  // namespace wallet::domain
