// FUZZ_CHECK: the invariant assertion of the fuzz targets. A broken invariant prints what broke and
// aborts, which libFuzzer reports as a crash and saves as an artifact (with the input).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace wallet::fuzz {

[[noreturn]] inline void check_failed(const char* file, int line, const char* condition,
                                      const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: invariant broken: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::abort();
}

// Printable form of arbitrary bytes for failure messages.
inline std::string escaped(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out + "\"";
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace wallet::fuzz

#define FUZZ_CHECK(condition, detail)                                         \
  do {                                                                        \
    if (!(condition)) {                                                       \
      ::wallet::fuzz::check_failed(__FILE__, __LINE__, #condition, (detail)); \
    }                                                                         \
  } while (false)
