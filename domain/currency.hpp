// Currencies (SPEC.md section 8): the configured set with each one's minor-unit exponent, and the
// exact decimal parsing and rendering of amounts at a currency's exponent. Never a binary float.
//
// A request amount is parsed before the account it names (and so its currency) is known: it is
// held as an Amount (the integer written, and how many fractional digits were written) and turned
// into minor units by the account's actor, which knows the exponent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace wallet::domain {

// The largest exponent a configured currency may have (BTC's 8 would not leave a balance cap of
// 10^15 major units inside int64).
constexpr int kMaxCurrencyExponent = 6;

struct Currency {
  std::string code;  // 3..12 characters of [A-Z0-9_]
  int exponent = 2;  // 0..kMaxCurrencyExponent
};

// The configured currencies, in configuration order. Build one with parse() or defaults(): a
// default-constructed Currencies is empty, and default_currency() must not be called on it.
class Currencies {
 public:
  // `config` is CURRENCIES: "CODE:EXPONENT" items separated by commas ("USD:2,EUR:2,JPY:0"),
  // spaces around items ignored. Error (ErrorCode::bad_request, with the reason) on an empty list,
  // a malformed item, a code outside [A-Z0-9_]{3,12}, an exponent outside 0..6, or a code listed
  // twice. `default_code` (DEFAULT_CURRENCY, spaces around it ignored) must be one of them. The
  // message names the offending item.
  static Result<Currencies> parse(std::string_view config, std::string_view default_code);

  // SPEC.md section 8's defaults: USD:2,EUR:2,GBP:2,JPY:0,KWD:3 with USD the default.
  static Currencies defaults();

  const Currency* find(std::string_view code) const;  // nullptr when not configured
  const Currency& default_currency() const { return all_[default_index_]; }
  const std::vector<Currency>& all() const { return all_; }
  int max_exponent() const;  // the largest exponent configured (0 when empty)

 private:
  std::vector<Currency> all_;
  size_t default_index_ = 0;
};

// The process's currencies: Currencies::defaults() until set_configured_currencies() is called.
// Set it once at start-up, after parsing CURRENCIES/DEFAULT_CURRENCY and BEFORE any other thread
// starts: the setting is a plain global without synchronization, so reading it from any thread
// afterwards is safe, while setting it while other threads may read it is a data race. An empty
// (default-constructed) Currencies is ignored and the current setting kept. The reference returned
// stays valid for the life of the process, but a later set replaces what it refers to.
void set_configured_currencies(Currencies currencies);
const Currencies& configured_currencies();

// 10^exponent for 0..18; 0 outside it (no power of ten there is an int64).
int64_t pow10(int exponent);

// The largest amount one request may carry, in minor units: 1000000000 major units (10^(9+e)).
// 0 for an exponent outside 0..kMaxCurrencyExponent, so that a caller's bug fails closed.
int64_t max_amount_minor(int exponent);
// The largest balance an account may hold, in minor units: 10^15 major units, but at most 10^18
// minor units (so 10^15 major units up to exponent 3, 10^(18-e) major units for exponents 4..6).
// Adding a maximal amount to a capped balance therefore never overflows int64 for any exponent up
// to 6 (10^18 + 10^15 < 2^63). 0 for an exponent outside 0..kMaxCurrencyExponent.
int64_t max_balance_minor(int exponent);

// A request amount as written: `units` of 10^-scale (scale = the number of fractional digits
// written, trailing zeros included: "1.50" is {150, 2}).
struct Amount {
  int64_t units = 0;
  int scale = 0;

  // The amount in minor units of a currency of `exponent`: invalid_amount when more fractional
  // digits were written than the currency has ("amount has 3 fractional digits; this currency has
  // 2 decimal places"), or the value is not in 1..max_amount_minor(exponent) (not above 1000000000
  // major units). ErrorCode::internal for an exponent outside 0..kMaxCurrencyExponent.
  Result<int64_t> to_minor(int exponent) const;

  // The canonical decimal text of its value (leading zeros and trailing fractional zeros dropped,
  // and the point with them when nothing follows it: "1.5", "1500", "0.05", "-2"): equal for
  // amounts that mean the same number, used in idempotency request hashes.
  std::string canonical() const;

  static Amount minor(int64_t minor, int exponent) { return Amount{minor, exponent}; }
};

// Parses a request amount: DIGITS [ "." 1..max_scale DIGITS ], at most 64 characters, value > 0
// and at most 1000000000 (major units). Everything else (empty, whitespace, signs, exponents,
// "1.", ".5", more than max_scale fractional digits) is ErrorCode::invalid_amount with a message
// saying why. Leading zeros are accepted as Money::parse_amount accepts them. `max_scale` is
// typically configured_currencies().max_exponent(); one outside 0..kMaxCurrencyExponent is
// ErrorCode::internal.
Result<Amount> parse_amount(std::string_view text, int max_scale);

// Exactly `exponent` decimals: format_minor(150, 2) == "1.50", format_minor(1500, 0) == "1500",
// format_minor(-1500, 3) == "-1.500", format_minor(0, 2) == "0.00". Defined for every int64
// including INT64_MIN; an exponent outside 0..18 is taken as the nearer of 0 and 18.
std::string format_minor(int64_t minor, int exponent);

// Parses a Postgres numeric's text (optional '-', digits, optionally '.' and 1..exponent digits;
// more digits are accepted only if they are zeros: "1.500" at 2 is 150, "1.501" at 2 and "1.5" at
// 0 are nullopt) into minor units at `exponent`. nullopt on any other text ("", "1.", ".5", "+1",
// "NaN", spaces), when it does not fit int64, or for an exponent outside 0..18.
std::optional<int64_t> parse_stored_minor(std::string_view text, int exponent);

}  // namespace wallet::domain
