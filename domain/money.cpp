// Money at the default currency's two decimals: its parsing and formatting are the currency
// amounts' (currency_amounts.cpp) at exponent 2, so that amounts are read and written in one place.
#include "domain/money.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "domain/currency.hpp"
#include "domain/currency_internal.hpp"

namespace wallet::domain {

// SPEC section 2's amounts are the default-currency case of a currency's: at most 2 decimals.
Result<Money> Money::parse_amount(std::string_view text) {
  auto written = domain::parse_amount(text, 2);
  if (!written) return written.error();
  return Money(written->units * pow10(2 - written->scale));
}

std::string Money::to_string() const { return format_minor_units(minor_); }

// numeric(20,2) as Postgres prints it: no third fractional digit, not even a zero.
std::optional<int64_t> parse_minor_units(std::string_view text) {
  return currency_internal::parse_minor_text(text, 2, /*zeros_beyond_exponent=*/false);
}

std::string format_minor_units(int64_t minor) { return format_minor(minor, 2); }

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
