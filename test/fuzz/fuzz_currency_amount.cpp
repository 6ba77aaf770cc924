// Fuzzes domain/currency's request amounts at a currency's exponent: parse_amount + to_minor
// against an independent oracle of SPEC.md section 8's rules, the canonical text, and
// parse_stored_minor against its own oracle; every accepted amount must round-trip through
// format_minor. The first byte chooses the exponent (low nibble % 7) and parse_amount's max_scale
// (high nibble % 7): 0x23 is exponent 3 with max_scale 2; the rest of the input is the text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "domain/currency.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::domain::Amount;
using wallet::domain::ErrorCode;
using wallet::domain::format_minor;
using wallet::domain::kMaxCurrencyExponent;
using wallet::domain::parse_amount;
using wallet::domain::parse_stored_minor;
using wallet::fuzz::escaped;

constexpr __int128 kMin = std::numeric_limits<int64_t>::min();
constexpr __int128 kMax = std::numeric_limits<int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

__int128 ten_to(int n) {
  __int128 out = 1;
  for (int i = 0; i < n; ++i) out *= 10;
  return out;
}

struct Split {
  bool negative = false;
  std::string_view integer;   // leading zeros dropped
  std::string_view fraction;  // as written
  bool has_dot = false;
};

// [-]DIGITS[.DIGITS] split into its parts, or nullopt.
std::optional<Split> split(std::string_view text, bool allow_sign) {
  Split out;
  if (allow_sign && !text.empty() && text.front() == '-') {
    out.negative = true;
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string_view integer = text.substr(0, dot);
  out.has_dot = dot != std::string_view::npos;
  out.fraction = out.has_dot ? text.substr(dot + 1) : std::string_view();
  if (integer.empty() || (out.has_dot && out.fraction.empty())) return std::nullopt;
  for (char c : integer) {
    if (!is_digit(c)) return std::nullopt;
  }
  for (char c : out.fraction) {
    if (!is_digit(c)) return std::nullopt;
  }
  const size_t first = integer.find_first_not_of('0');
  out.integer = first == std::string_view::npos ? std::string_view() : integer.substr(first);
  return out;
}

__int128 digits_value(std::string_view digits) {
  __int128 value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// parse_amount's rules: DIGITS [ "." 1..max_scale DIGITS ], at most 64 characters, value in
// (0, 10^9] major units. Returns {units, scale}. 128 bits, far from overflow after the length cut.
std::optional<Amount> amount_oracle(std::string_view text, int max_scale) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const auto parts = split(text, false);
  if (!parts || parts->fraction.size() > static_cast<size_t>(max_scale)) return std::nullopt;
  if (parts->integer.size() > 12) return std::nullopt;  // far above the cap either way
  const int scale = static_cast<int>(parts->fraction.size());
  const __int128 units =
      digits_value(parts->integer) * ten_to(scale) + digits_value(parts->fraction);
  if (units < 1 || units > 1'000'000'000 * ten_to(scale)) return std::nullopt;
  return Amount{static_cast<int64_t>(units), scale};
}

// to_minor's rules: scale <= exponent, then units * 10^(exponent - scale) in 1..10^(9+exponent).
std::optional<int64_t> to_minor_oracle(const Amount& amount, int exponent) {
  if (amount.scale < 0 || amount.scale > exponent) return std::nullopt;
  const __int128 minor = static_cast<__int128>(amount.units) * ten_to(exponent - amount.scale);
  if (minor < 1 || minor > 1'000'000'000 * ten_to(exponent)) return std::nullopt;
  return static_cast<int64_t>(minor);
}

// parse_stored_minor's rules: -?DIGITS[.DIGITS], fractional digits beyond `exponent` all zeros,
// the value in minor units within int64.
std::optional<int64_t> stored_oracle(std::string_view text, int exponent) {
  const auto parts = split(text, true);
  if (!parts) return std::nullopt;
  std::string_view fraction = parts->fraction;
  if (fraction.size() > static_cast<size_t>(exponent)) {
    if (fraction.find_first_not_of('0', exponent) != std::string_view::npos) return std::nullopt;
    fraction = fraction.substr(0, exponent);
  }
  if (parts->integer.size() > 20) return std::nullopt;  // >= 10^20: beyond int64 at any exponent
  __int128 value = digits_value(parts->integer) * ten_to(exponent) +
                   digits_value(fraction) * ten_to(exponent - static_cast<int>(fraction.size()));
  if (parts->negative) value = -value;
  if (value < kMin || value > kMax) return std::nullopt;
  return static_cast<int64_t>(value);
}

// The canonical text of an accepted request amount, from the text itself: leading zeros and
// trailing fractional zeros dropped, and the point if nothing is left after it.
std::string canonical_oracle(std::string_view text) {
  const auto parts = split(text, false);
  std::string out = parts->integer.empty() ? "0" : std::string(parts->integer);
  std::string_view fraction = parts->fraction;
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (!fraction.empty()) out += "." + std::string(fraction);
  return out;
}

// -?(0|[1-9][0-9]*)(\.[0-9]{exponent})?, exactly `exponent` decimals, never "-0...".
bool is_formatted(const std::string& text, int exponent) {
  std::string_view rest = text;
  const bool negative = !rest.empty() && rest.front() == '-';
  if (negative) rest.remove_prefix(1);
  if (rest.size() < static_cast<size_t>(exponent == 0 ? 1 : exponent + 2)) return false;
  const size_t point = exponent == 0 ? rest.size() : rest.size() - exponent - 1;
  if (exponent > 0 && rest[point] != '.') return false;
  const std::string_view integer = rest.substr(0, point);
  if (integer.empty() || (integer.size() > 1 && integer.front() == '0')) return false;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (i != point && !is_digit(rest[i])) return false;
  }
  return !negative || rest.find_first_not_of("0.") != std::string_view::npos;
}

void check_int64_round_trip(int64_t minor, int exponent) {
  const std::string text = format_minor(minor, exponent);
  FUZZ_CHECK(is_formatted(text, exponent), text + " at " + std::to_string(exponent));
  const auto back = parse_stored_minor(text, exponent);
  FUZZ_CHECK(back && *back == minor, std::to_string(minor) + " -> " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int exponent = (data[0] & 0x0f) % (kMaxCurrencyExponent + 1);
  const int max_scale = (data[0] >> 4) % (kMaxCurrencyExponent + 1);
  const std::string_view text = wallet::fuzz::as_text(data + 1, size - 1);
  const std::string where = escaped(text) + " (exponent " + std::to_string(exponent) +
                            ", max_scale " + std::to_string(max_scale) + ")";

  // parse_amount against its oracle.
  const auto parsed = parse_amount(text, max_scale);
  const auto expected = amount_oracle(text, max_scale);
  if (!parsed) {
    FUZZ_CHECK(!expected, where + " rejected but means " + std::to_string(expected->units) + "e-" +
                              std::to_string(expected->scale));
    FUZZ_CHECK(parsed.error().code == ErrorCode::invalid_amount, where);
    FUZZ_CHECK(!parsed.error().message.empty() && parsed.error().message.size() < 120,
               parsed.error().message);
  } else {
    FUZZ_CHECK(expected.has_value(), where + " accepted");
    FUZZ_CHECK(
        parsed->units == expected->units && parsed->scale == expected->scale,
        where + " gave " + std::to_string(parsed->units) + "e-" + std::to_string(parsed->scale));
    FUZZ_CHECK(parsed->canonical() == canonical_oracle(text),
               where + " canonical " + parsed->canonical());

    // to_minor against its oracle.
    const auto minor = parsed->to_minor(exponent);
    const auto expected_minor = to_minor_oracle(*parsed, exponent);
    if (!minor) {
      FUZZ_CHECK(!expected_minor, where + " to_minor rejected " + std::to_string(*expected_minor));
      FUZZ_CHECK(minor.error().code == ErrorCode::invalid_amount, where);
      FUZZ_CHECK(parsed->scale > exponent, where + ": " + minor.error().message);
    } else {
      FUZZ_CHECK(expected_minor && *minor == *expected_minor,
                 where + " to_minor gave " + std::to_string(*minor));
      const int64_t value = *minor;
      FUZZ_CHECK(value >= 1 && value <= wallet::domain::max_amount_minor(exponent), where);

      // Every accepted amount round-trips through its formatted text, as database text and as a
      // request amount, and means the same number as written.
      const std::string formatted = format_minor(value, exponent);
      FUZZ_CHECK(is_formatted(formatted, exponent), where + " -> " + formatted);
      const auto stored = parse_stored_minor(formatted, exponent);
      FUZZ_CHECK(stored && *stored == value, where + " -> " + formatted);
      const auto again = parse_amount(formatted, exponent);
      FUZZ_CHECK(again.ok(), where + " -> " + formatted + ": " +
                                 (again.ok() ? std::string() : again.error().message));
      const auto again_minor = again->to_minor(exponent);
      FUZZ_CHECK(again_minor.ok() && *again_minor == value, where + " -> " + formatted);
      FUZZ_CHECK(Amount::minor(value, exponent).canonical() == parsed->canonical(),
                 where + " -> " + Amount::minor(value, exponent).canonical());
    }
  }

  // parse_stored_minor on the same text, and format_minor back.
  const auto stored = parse_stored_minor(text, exponent);
  const auto expected_stored = stored_oracle(text, exponent);
  FUZZ_CHECK(stored.has_value() == expected_stored.has_value(),
             where + (stored ? " stored accepted" : " stored rejected"));
  if (stored) {
    FUZZ_CHECK(*stored == *expected_stored, where + " stored gave " + std::to_string(*stored));
    check_int64_round_trip(*stored, exponent);
  }

  // The raw bytes as an integer: every int64 formats canonically and parses back.
  if (text.size() >= sizeof(int64_t)) {
    int64_t raw = 0;
    std::memcpy(&raw, text.data(), sizeof raw);
    check_int64_round_trip(raw, exponent);
  }
  return 0;
}
