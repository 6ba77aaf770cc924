// Money: an exact amount in minor units (cents), the one money parser for requests and the one
// formatter for responses and database text. Never goes through a binary float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::domain {

// Largest amount a single request may carry: 1000000000.00.
constexpr int64_t kMaxAmountMinor = 100'000'000'000;
// Largest balance an account may hold: 1000000000000000.00. Well inside int64 and numeric(20,2),
// so adding one maximal amount to a capped balance can never overflow.
constexpr int64_t kMaxBalanceMinor = 100'000'000'000'000'000;
// Request amounts longer than this are rejected before any digit is looked at.
constexpr std::size_t kMaxAmountTextLength = 64;

class Money {
 public:
  constexpr Money() = default;

  // Parses a request amount: the content of a JSON string or the original text of a JSON number.
  // Grammar: DIGITS [ "." DIGIT [DIGIT] ], at most kMaxAmountTextLength characters. Leading zeros
  // are accepted ("007.5" is 7.50) because a JSON string may carry them; JSON numbers cannot.
  // The value must be in 0.01..1000000000.00. Everything else (empty, whitespace, signs,
  // exponents, "1.", ".5", NaN/Infinity, hex, three or more fractional digits even if zero) is
  // ErrorCode::invalid_amount.
  static Result<Money> parse_amount(std::string_view text);

  // Any value, including negative balance changes; callers enforce their own bounds.
  static constexpr Money from_minor(int64_t minor) { return Money(minor); }

  constexpr int64_t minor() const { return minor_; }

  // Exactly two decimals: "1234.50", "0.05", "-12.30".
  std::string to_string() const;

  friend constexpr bool operator==(Money a, Money b) { return a.minor_ == b.minor_; }
  friend constexpr bool operator!=(Money a, Money b) { return a.minor_ != b.minor_; }
  friend constexpr bool operator<(Money a, Money b) { return a.minor_ < b.minor_; }
  friend constexpr bool operator<=(Money a, Money b) { return a.minor_ <= b.minor_; }
  friend constexpr bool operator>(Money a, Money b) { return a.minor_ > b.minor_; }
  friend constexpr bool operator>=(Money a, Money b) { return a.minor_ >= b.minor_; }

 private:
  constexpr explicit Money(int64_t minor) : minor_(minor) {}

  int64_t minor_ = 0;
};

// Parses numeric(20,2) text as Postgres prints it: optional '-', digits, optionally '.' and one
// or two digits ("-12.30", "0.00", "15"). nullopt on any other text or if it does not fit int64.
std::optional<int64_t> parse_minor_units(std::string_view text);

// Same output as Money::to_string; defined for every int64 including INT64_MIN.
std::string format_minor_units(int64_t minor);

// out = a + b (or a - b). Returns false, leaving out untouched, if the result would overflow.
bool checked_add(int64_t a, int64_t b, int64_t& out);
bool checked_sub(int64_t a, int64_t b, int64_t& out);

}  // namespace wallet::domain
