#include "http/history_cursor.hpp"

#include <charconv>

#include "http/jwt.hpp"

namespace wallet::http {
namespace {

constexpr std::string_view kVersion = "v1:";

}  // namespace

std::string encode_history_cursor(int64_t seq) {
  return base64url_encode(std::string(kVersion) + std::to_string(seq));
}

std::optional<int64_t> decode_history_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > 64) return std::nullopt;
  auto text = base64url_decode(cursor);
  if (!text || text->compare(0, kVersion.size(), kVersion) != 0) return std::nullopt;
  const std::string_view digits = std::string_view(*text).substr(kVersion.size());
  // Canonical decimal only: no sign, no leading zero, so each seq has exactly one cursor.
  if (digits.empty() || digits.front() == '0') return std::nullopt;
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq <= 0) return std::nullopt;
  return seq;
}

}  // namespace wallet::http
