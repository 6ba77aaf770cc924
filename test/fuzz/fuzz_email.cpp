// Fuzzes normalize_email against an independent reading of the accepted subset (email.hpp), and
// checks that normalization is idempotent and blind to case and surrounding whitespace, so that
// one address can never be stored twice under two spellings.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/email.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::domain::ErrorCode;
using wallet::domain::normalize_email;
using wallet::fuzz::escaped;

bool is_space(char c) { return std::string_view(" \t\n\r\f\v").find(c) != std::string_view::npos; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<std::string> oracle(std::string_view raw) {
  while (!raw.empty() && is_space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
  if (raw.empty() || raw.size() > 254) return std::nullopt;
  std::string email(raw);
  for (char& c : email) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  const auto halves = split(email, '@');
  if (halves.size() != 2) return std::nullopt;
  const std::string_view local = halves[0];
  if (local.empty() || local.size() > 64) return std::nullopt;
  for (const auto atom : split(local, '.')) {
    if (atom.empty()) return std::nullopt;  // leading, trailing or double dot
    for (char c : atom) {
      if (!is_alnum(c) &&
          std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) == std::string_view::npos) {
        return std::nullopt;
      }
    }
  }
  const auto labels = split(halves[1], '.');
  if (labels.size() < 2) return std::nullopt;
  for (const auto label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return std::nullopt;
    }
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return std::nullopt;
    }
  }
  const std::string_view tld = labels.back();
  if (tld.size() < 2 || tld.find_first_not_of("0123456789") == std::string_view::npos) {
    return std::nullopt;
  }
  return email;
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw = wallet::fuzz::as_text(data, size);
  const auto normalized = normalize_email(raw);
  const auto expected = oracle(raw);

  if (!normalized) {
    FUZZ_CHECK(!expected, escaped(raw) + " rejected, expected " + *expected);
    FUZZ_CHECK(normalized.error().code == ErrorCode::invalid_email, escaped(raw));
    const std::string& message = normalized.error().message;
    FUZZ_CHECK(!message.empty() && message.size() < 120, message);
    // Messages never echo the address: no message contains an '@' followed by a letter or digit.
    const size_t at = message.find('@');
    FUZZ_CHECK(at == std::string::npos || at + 1 == message.size() || !is_alnum(message[at + 1]),
               message);
    return 0;
  }

  const std::string& email = *normalized;
  FUZZ_CHECK(expected && *expected == email, escaped(raw) + " -> " + escaped(email));
  FUZZ_CHECK(email.size() <= 254 && email.find('@') != std::string::npos, email);
  FUZZ_CHECK(email.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ \t\r\n") == std::string::npos, email);
  for (const std::string& spelling : {email, upper(email), " \t" + upper(email) + "\r\n"}) {
    const auto again = normalize_email(spelling);
    FUZZ_CHECK(again && *again == email, escaped(spelling) + " vs " + email);
  }
  return 0;
}
