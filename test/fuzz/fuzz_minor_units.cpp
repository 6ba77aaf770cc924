// Fuzzes parse_minor_units (numeric(20,2) text from Postgres and NATS replies) against an
// independent oracle, format_minor_units for every int64 (round trip, canonical form), and the
// checked add/sub helpers against 128-bit arithmetic.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::domain::format_minor_units;
using wallet::domain::parse_minor_units;
using wallet::fuzz::escaped;

constexpr __int128 kMin = std::numeric_limits<int64_t>::min();
constexpr __int128 kMax = std::numeric_limits<int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// -?DIGITS[.D[D]] whose value in cents fits int64.
std::optional<int64_t> oracle(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
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
  if (integer.size() - first > 20) return std::nullopt;
  __int128 value = 0;
  for (size_t i = first; i < integer.size(); ++i) value = value * 10 + (integer[i] - '0');
  value *= 100;
  if (!fraction.empty()) value += (fraction[0] - '0') * 10;
  if (fraction.size() == 2) value += fraction[1] - '0';
  if (negative) value = -value;
  if (value < kMin || value > kMax) return std::nullopt;
  return static_cast<int64_t>(value);
}

// -?(0|[1-9][0-9]*)\.[0-9]{2}
bool is_canonical(const std::string& text) {
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '-') rest.remove_prefix(1);
  if (rest.size() < 4 || rest[rest.size() - 3] != '.') return false;
  const std::string_view integer = rest.substr(0, rest.size() - 3);
  if (integer.size() > 1 && integer.front() == '0') return false;
  for (char c : integer) {
    if (!is_digit(c)) return false;
  }
  return is_digit(rest[rest.size() - 2]) && is_digit(rest.back());
}

void check_round_trip(int64_t minor) {
  const std::string text = format_minor_units(minor);
  FUZZ_CHECK(is_canonical(text), text);
  FUZZ_CHECK(text != "-0.00", text);
  const auto back = parse_minor_units(text);
  FUZZ_CHECK(back && *back == minor, std::to_string(minor) + " -> " + text);
}

void check_arithmetic(int64_t a, int64_t b) {
  int64_t out = 42;
  const __int128 sum = static_cast<__int128>(a) + b;
  const bool sum_fits = sum >= kMin && sum <= kMax;
  FUZZ_CHECK(wallet::domain::checked_add(a, b, out) == sum_fits, "add");
  FUZZ_CHECK(sum_fits ? out == static_cast<int64_t>(sum) : out == 42, "add result");
  out = 42;
  const __int128 difference = static_cast<__int128>(a) - b;
  const bool difference_fits = difference >= kMin && difference <= kMax;
  FUZZ_CHECK(wallet::domain::checked_sub(a, b, out) == difference_fits, "sub");
  FUZZ_CHECK(difference_fits ? out == static_cast<int64_t>(difference) : out == 42, "sub result");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = wallet::fuzz::as_text(data, size);
  const auto parsed = parse_minor_units(text);
  const auto expected = oracle(text);
  FUZZ_CHECK(parsed.has_value() == expected.has_value(),
             escaped(text) + (parsed ? " accepted" : " rejected"));
  if (parsed) {
    FUZZ_CHECK(*parsed == *expected, escaped(text) + " gave " + std::to_string(*parsed));
    check_round_trip(*parsed);
  }

  // The raw bytes as integers: every int64 formats canonically and parses back.
  if (size >= sizeof(int64_t)) {
    int64_t a = 0;
    std::memcpy(&a, data, sizeof a);
    check_round_trip(a);
    int64_t b = 0;
    if (size >= 2 * sizeof(int64_t)) std::memcpy(&b, data + sizeof a, sizeof b);
    check_arithmetic(a, b);
  }
  return 0;
}
