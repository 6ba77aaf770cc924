// Fuzzes the HTTP router's path matching and percent-decoding (http/router.cpp) with the route
// table of both services: the match agrees with an independent segment-by-segment matcher (first
// route wins, 405 only for a known path), parameters are the percent-decoded segments, and
// percent_decode inverts full percent-encoding and never grows its input.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::fuzz::escaped;
using wallet::http::HttpRequest;
using wallet::http::percent_decode;
using wallet::http::Route;
using wallet::http::Router;

const std::vector<std::pair<const char*, const char*>> kRoutes = {
    {"GET", "/healthz"},
    {"GET", "/readyz"},
    {"GET", "/metrics"},
    {"POST", "/createUser"},
    {"POST", "/users"},
    {"GET", "/getBalance"},
    {"GET", "/balance"},
    {"GET", "/users/{user_id}"},
    {"POST", "/addMoney"},
    {"POST", "/transferMoney"},
    {"GET", "/users/{user_id}/balance"},
    {"GET", "/users/{user_id}/transactions"},
    {"GET", "/admin/actors"},
    {"GET", "/admin/actors/{user_id}"},
    {"GET", "/admin/bridges"},
    {"DELETE", "/users/{user_id}"},
    {"GET", "/{a}/{b}/{c}/literal"},
};

const Router& router() {
  static const Router instance = [] {
    Router r;
    for (const auto& [method, pattern] : kRoutes) r.add(method, pattern, nullptr);
    return r;
  }();
  return instance;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

// An origin-form path (starting with '/') matches a pattern segment by segment; a `{name}`
// segment takes any non-empty segment, percent-decoded.
bool oracle_matches(std::string_view pattern, std::string_view path,
                    std::map<std::string, std::string>& params) {
  if (path.empty() || path.front() != '/') return false;
  const auto want = segments(pattern);
  const auto have = segments(path);
  if (want.size() != have.size()) return false;
  params.clear();
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      if (have[i].empty()) return false;
      params[std::string(want[i].substr(1, want[i].size() - 2))] = percent_decode(have[i], false);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void check_percent_decode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    encoded += '%';
    encoded += kHex[c >> 4];
    encoded += kHex[c & 0x0f];
  }
  FUZZ_CHECK(percent_decode(encoded, false) == text, escaped(text));
  FUZZ_CHECK(percent_decode(encoded, true) == text, escaped(text));

  for (const bool plus_is_space : {false, true}) {
    const std::string decoded = percent_decode(text, plus_is_space);
    FUZZ_CHECK(decoded.size() <= text.size(), escaped(text));
    // Reference: a valid %XX escape becomes its byte, everything else is copied.
    std::string expected;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
          hex_value(text[i + 2]) >= 0) {
        expected += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
        i += 2;
      } else {
        expected += (plus_is_space && text[i] == '+') ? ' ' : text[i];
      }
    }
    FUZZ_CHECK(decoded == expected, escaped(text) + " -> " + escaped(decoded));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = wallet::fuzz::as_text(data, size);
  HttpRequest request;
  request.method = "GET";
  // "METHOD /path" picks the method; anything else is a GET of the whole input.
  if (const size_t space = input.find(' '); space != std::string_view::npos && space <= 7) {
    request.method = std::string(input.substr(0, space));
    input.remove_prefix(space + 1);
  }
  request.path = std::string(input);

  const Route* route = nullptr;
  const Router::Match match = router().match(request, &route);

  const Route* expected_route = nullptr;
  std::map<std::string, std::string> expected_params;
  bool path_known = false;
  for (const Route& candidate : router().routes()) {
    std::map<std::string, std::string> params;
    if (!oracle_matches(candidate.pattern, request.path, params)) continue;
    path_known = true;
    if (candidate.method != request.method) continue;
    expected_route = &candidate;
    expected_params = std::move(params);
    break;
  }

  const std::string what = request.method + " " + escaped(request.path);
  if (expected_route) {
    FUZZ_CHECK(match == Router::Match::found, what);
    FUZZ_CHECK(route == expected_route, what + " matched " + route->pattern);
    FUZZ_CHECK(request.params == expected_params, what);
    FUZZ_CHECK(request.path.front() == '/', what);
  } else {
    FUZZ_CHECK(match == (path_known ? Router::Match::wrong_method : Router::Match::not_found),
               what + (match == Router::Match::found ? " matched " + route->pattern : ""));
    FUZZ_CHECK(request.params.empty(), what);
  }

  check_percent_decode(input);
  return 0;
}
