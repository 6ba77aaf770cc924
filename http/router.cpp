#include "http/router.hpp"

namespace wallet::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool matches(const std::string& pattern, const std::string& path,
             std::map<std::string, std::string>& params) {
  auto want = split_path(pattern);
  auto have = split_path(path);
  if (want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      if (have[i].empty()) return false;
      found[std::string(want[i].substr(1, want[i].size() - 2))] = percent_decode(have[i], false);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && text[i] == '+') ? ' ' : text[i];
  }
  return out;
}

std::optional<std::string> HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpRequest::query_value(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

void Router::add(std::string method, std::string pattern, Handler handler, size_t max_body) {
  const bool literal = pattern.find('{') == std::string::npos;
  if (!literal) max_body = 0;
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(handler), max_body, literal});
}

size_t Router::body_limit(const std::string& path, size_t standard) const {
  for (const auto& route : routes_) {
    if (route.literal && route.max_body > standard && route.pattern == path) return route.max_body;
  }
  return standard;
}

Router::Match Router::match(HttpRequest& request, const Route** route) const {
  // Only origin-form paths: split_path skips the first character as the leading '/', so without
  // this check "xhealthz" (or "Xadmin/actors") would match "/healthz" ("/admin/actors").
  if (request.path.empty() || request.path.front() != '/') return Match::not_found;
  // A literal pattern wins over a pattern with parameters that matches the same path: GET
  // /transactions/bulk is 405 (the path is POST /transactions/bulk's), not a lookup of a
  // transaction named "bulk".
  for (const bool literal : {true, false}) {
    bool path_known = false;
    for (const auto& candidate : routes_) {
      if (candidate.literal != literal) continue;
      std::map<std::string, std::string> params;
      if (literal ? candidate.pattern != request.path
                  : !matches(candidate.pattern, request.path, params)) {
        continue;
      }
      path_known = true;
      if (candidate.method != request.method) continue;
      request.params = std::move(params);
      *route = &candidate;
      return Match::found;
    }
    if (path_known) return Match::wrong_method;
  }
  return Match::not_found;
}

}  // namespace wallet::http
