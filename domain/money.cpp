// Exact decimal parsing and formatting of money; the only place amounts are turned into numbers.
#include "domain/money.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "domain/currency.hpp"

namespace wallet::domain {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// SPEC section 2's amounts are the default-currency case of a currency's: at most 2 decimals.
Result<Money> Money::parse_amount(std::string_view text) {
  auto written = domain::parse_amount(text, 2);
  if (!written) return written.error();
  return Money(written->units * pow10(2 - written->scale));
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
