// Fuzzes Money::parse_amount, the one parser of request amounts, against an independent oracle of
// the SPEC.md money rules, and checks that every accepted amount round-trips through to_string().
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::domain::ErrorCode;
using wallet::domain::kMaxAmountMinor;
using wallet::domain::kMaxAmountTextLength;
using wallet::domain::Money;
using wallet::fuzz::escaped;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// DIGITS [ "." DIGIT [DIGIT] ], at most 64 characters, value in 0.01..1000000000.00; computed
// digit by digit in 128 bits after dropping leading zeros, so nothing here can overflow.
std::optional<int64_t> oracle(std::string_view text) {
  if (text.empty() || text.size() > kMaxAmountTextLength) return std::nullopt;
  const size_t dot = text.find('.');
  const std::string_view integer = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (integer.empty()) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 2)) {
    return std::nullopt;
  }
  for (char c : integer) {
    if (!is_digit(c)) return std::nullopt;
  }
  for (char c : fraction) {
    if (!is_digit(c)) return std::nullopt;
  }
  size_t first = integer.find_first_not_of('0');
  if (first == std::string_view::npos) first = integer.size();
  if (integer.size() - first > 12) return std::nullopt;  // far above the cap either way
  __int128 value = 0;
  for (size_t i = first; i < integer.size(); ++i) value = value * 10 + (integer[i] - '0');
  value *= 100;
  if (!fraction.empty()) value += (fraction[0] - '0') * 10;
  if (fraction.size() == 2) value += fraction[1] - '0';
  if (value < 1 || value > kMaxAmountMinor) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = wallet::fuzz::as_text(data, size);
  const auto parsed = Money::parse_amount(text);
  const auto expected = oracle(text);

  if (!parsed) {
    FUZZ_CHECK(!expected, escaped(text) + " rejected but means " + std::to_string(*expected));
    FUZZ_CHECK(parsed.error().code == ErrorCode::invalid_amount, escaped(text));
    FUZZ_CHECK(!parsed.error().message.empty() && parsed.error().message.size() < 120,
               parsed.error().message);
    return 0;
  }

  const int64_t minor = parsed->minor();
  FUZZ_CHECK(expected.has_value(), escaped(text) + " accepted as " + std::to_string(minor));
  FUZZ_CHECK(minor == *expected, escaped(text) + " gave " + std::to_string(minor));
  FUZZ_CHECK(minor >= 1 && minor <= kMaxAmountMinor, std::to_string(minor));

  // parse -> to_string -> parse is the identity, and to_string is the canonical two-decimal form.
  const std::string formatted = parsed->to_string();
  const auto again = Money::parse_amount(formatted);
  FUZZ_CHECK(again && again->minor() == minor, escaped(text) + " -> " + formatted);
  const auto as_db_text = wallet::domain::parse_minor_units(formatted);
  FUZZ_CHECK(as_db_text && *as_db_text == minor, formatted);
  FUZZ_CHECK(formatted.size() >= 4 && formatted[formatted.size() - 3] == '.', formatted);
  FUZZ_CHECK(formatted.front() != '0' || formatted.size() == 4, formatted);  // no leading zeros
  return 0;
}
