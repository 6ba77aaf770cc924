// The configured currencies (SPEC.md section 8): CURRENCIES parsed and checked, the default one,
// and the process-wide set the decoders read. Amounts at a currency's exponent:
// currency_amounts.cpp.
#include "domain/currency.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/currency_internal.hpp"

namespace wallet::domain {
namespace {

using currency_internal::is_digit;

Error config_error(std::string message) {
  return Error{ErrorCode::bad_request, std::move(message)};
}

// Config text shown in an error message: printable ASCII kept, anything else as \xNN, and long
// text shortened (CURRENCIES comes from the environment and ends up in a log line).
std::string shown(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr std::size_t kMaxShown = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
      out += text[i];
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "\"";
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool valid_code(std::string_view code) {
  if (code.size() < 3 || code.size() > 12) return false;
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || is_digit(c) || c == '_')) return false;
  }
  return true;
}

// The exponent of a CURRENCIES item, or an error message (without the item, which the caller adds).
bool parse_exponent(std::string_view text, int& out, std::string& why) {
  if (text.empty()) {
    why = "the exponent after ':' is missing";
    return false;
  }
  for (char c : text) {
    if (!is_digit(c)) {
      why = "the exponent must be a number in 0.." + std::to_string(kMaxCurrencyExponent);
      return false;
    }
  }
  std::size_t first = text.find_first_not_of('0');
  if (first == std::string_view::npos) first = text.size() - 1;  // all zeros: the value is 0
  if (text.size() - first > 1 || text[first] - '0' > kMaxCurrencyExponent) {
    why = "the exponent " + std::string(text.substr(first, 6)) +
          (text.size() - first > 6 ? "..." : "") + " is outside 0.." +
          std::to_string(kMaxCurrencyExponent);
    return false;
  }
  out = text[first] - '0';
  return true;
}

}  // namespace

Result<Currencies> Currencies::parse(std::string_view config, std::string_view default_code) {
  if (trim_spaces(config).empty()) {
    return config_error("CURRENCIES must list at least one currency (\"CODE:EXPONENT,...\")");
  }
  Currencies out;
  std::size_t item_number = 0;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = config.find(',', begin);
    const std::size_t end = comma == std::string_view::npos ? config.size() : comma;
    const std::string_view item = trim_spaces(config.substr(begin, end - begin));
    ++item_number;
    const std::string where = "CURRENCIES item " + std::to_string(item_number);
    if (item.empty()) return config_error(where + " is empty (a stray comma?)");
    const std::string prefix = where + ' ' + shown(item) + ": ";

    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return config_error(prefix + "must be CODE:EXPONENT, like \"USD:2\"");
    }
    const std::string_view code = item.substr(0, colon);
    const std::string_view exponent_text = item.substr(colon + 1);
    if (exponent_text.find(':') != std::string_view::npos) {
      return config_error(prefix + "must be CODE:EXPONENT with one ':', like \"USD:2\"");
    }
    if (!valid_code(code)) {
      return config_error(prefix + "the code must be 3..12 characters of A-Z, 0-9 and _");
    }
    int exponent = 0;
    std::string why;
    if (!parse_exponent(exponent_text, exponent, why)) return config_error(prefix + why);
    if (out.find(code) != nullptr) {
      return config_error(prefix + std::string(code) + " is listed twice");
    }
    out.all_.push_back(Currency{std::string(code), exponent});

    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }

  const std::string_view wanted = trim_spaces(default_code);
  const auto found = std::find_if(out.all_.begin(), out.all_.end(),
                                  [&](const Currency& c) { return c.code == wanted; });
  if (found == out.all_.end()) {
    std::string listed;
    for (const Currency& c : out.all_) listed += (listed.empty() ? "" : ", ") + c.code;
    return config_error("DEFAULT_CURRENCY " + shown(default_code) + " is not one of CURRENCIES (" +
                        listed + ")");
  }
  out.default_index_ = static_cast<std::size_t>(found - out.all_.begin());
  return out;
}

Currencies Currencies::defaults() {
  Currencies out;
  out.all_ = {{"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KWD", 3}};
  out.default_index_ = 0;
  return out;
}

const Currency* Currencies::find(std::string_view code) const {
  for (const Currency& c : all_) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

int Currencies::max_exponent() const {
  int out = 0;
  for (const Currency& c : all_) out = std::max(out, c.exponent);
  return out;
}

namespace {

Currencies& configured_storage() {
  static Currencies configured = Currencies::defaults();  // initialized once, thread-safely
  return configured;
}

}  // namespace

void set_configured_currencies(Currencies currencies) {
  if (currencies.all().empty()) return;  // see the header: never leave the process without one
  configured_storage() = std::move(currencies);
}

const Currencies& configured_currencies() { return configured_storage(); }

}  // namespace wallet::domain
