// How the decode_* fuzz targets read one input: an optional first line "key:<Idempotency-Key>"
// (the header value, which may be anything) and then the request body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wallet::fuzz {

struct RequestInput {
  std::optional<std::string> header_key;
  std::string_view body;
};

inline RequestInput split_request_input(std::string_view input) {
  RequestInput out{std::nullopt, input};
  constexpr std::string_view kPrefix = "key:";
  if (input.substr(0, kPrefix.size()) != kPrefix) return out;
  const size_t newline = input.find('\n');
  const size_t end = newline == std::string_view::npos ? input.size() : newline;
  out.header_key = std::string(input.substr(kPrefix.size(), end - kPrefix.size()));
  out.body = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return out;
}

}  // namespace wallet::fuzz
