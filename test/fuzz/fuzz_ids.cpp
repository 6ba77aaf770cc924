// Fuzzes the identifier rules: is_uuid / normalize_uuid (canonical 8-4-4-4-12 hex, answered in
// lower case) and is_valid_idempotency_key (1..255 bytes of 0x21..0x7E), against direct readings
// of their definitions.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::fuzz::escaped;

bool oracle_uuid(std::string_view text) {
  static constexpr std::string_view kShape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (kShape[i] == '-' ? c != '-' : !hex) return false;
  }
  return true;
}

bool oracle_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (unsigned char c : key) {
    if (c <= ' ' || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = wallet::fuzz::as_text(data, size);
  const bool uuid = wallet::domain::is_uuid(text);
  FUZZ_CHECK(uuid == oracle_uuid(text), escaped(text));
  const auto normalized = wallet::domain::normalize_uuid(text);
  FUZZ_CHECK(normalized.has_value() == uuid, escaped(text));
  if (normalized) {
    FUZZ_CHECK(normalized->size() == text.size(), *normalized);
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
      FUZZ_CHECK((*normalized)[i] == lower, *normalized);
    }
    FUZZ_CHECK(wallet::domain::normalize_uuid(*normalized) == normalized, *normalized);
  }
  FUZZ_CHECK(wallet::domain::is_valid_idempotency_key(text) == oracle_key(text), escaped(text));
  return 0;
}
