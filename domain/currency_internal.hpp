// Private to domain/'s amount files (currency.cpp, currency_amounts.cpp, money.cpp): the character
// class they read text with, and the one reader of signed decimal text that parse_stored_minor and
// parse_minor_units share. Nothing outside domain/ includes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wallet::domain::currency_internal {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// -?DIGITS[.DIGITS] as an int64 count of 10^-exponent units (exponent in 0..18): the fractional
// digits are right-padded with zeros to `exponent` digits; more than `exponent` of them are
// refused, or accepted if they are zeros when `zeros_beyond_exponent` ("1.500" at 2 is 150).
// nullopt on any other text or a value outside int64.
std::optional<int64_t> parse_minor_text(std::string_view text, int exponent,
                                        bool zeros_beyond_exponent);

}  // namespace wallet::domain::currency_internal
