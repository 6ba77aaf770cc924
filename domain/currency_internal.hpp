// Private to domain/'s currency files (currency.cpp, currency_amounts.cpp): the character class
// both read text with. Nothing outside domain/ includes it.
#pragma once

namespace wallet::domain::currency_internal {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace wallet::domain::currency_internal
