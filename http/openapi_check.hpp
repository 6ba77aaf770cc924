// The comparison behind the OpenAPI route check: the (method, path) pairs a Router registered
// against the operations an OpenAPI 3 document declares. Header-only and free of the server, so
// the tests can run it on documents they break on purpose and prove it fails.
#pragma once

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace wallet::http {

using RouteKey = std::pair<std::string, std::string>;  // {"GET", "/users/{user_id}"}

// Every operation of an OpenAPI document as {upper-case method, path template}.
inline std::set<RouteKey> openapi_operations(const nlohmann::json& document) {
  static const std::set<std::string> kMethods{"get",     "put",  "post",  "delete",
                                              "options", "head", "patch", "trace"};
  std::set<RouteKey> operations;
  auto paths = document.find("paths");
  if (paths == document.end() || !paths->is_object()) return operations;
  for (const auto& [path, item] : paths->items()) {
    if (!item.is_object()) continue;
    for (const auto& [key, operation] : item.items()) {
      if (!kMethods.count(key) || !operation.is_object()) continue;
      std::string method = key;
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      operations.emplace(method, path);
    }
  }
  return operations;
}

// One line per difference, empty when the routes and the document agree exactly. Path templates
// must match verbatim, parameter names included ({user_id} is not {id}).
inline std::vector<std::string> openapi_route_differences(const std::vector<RouteKey>& routes,
                                                          const nlohmann::json& document) {
  std::vector<std::string> differences;
  if (!document.is_object() || !document.contains("paths")) {
    differences.push_back("the document has no \"paths\" object");
    return differences;
  }
  const std::set<RouteKey> routed(routes.begin(), routes.end());
  const std::set<RouteKey> documented = openapi_operations(document);
  for (const auto& [method, path] : routed) {
    if (!documented.count({method, path})) {
      differences.push_back(method + " " + path + " is routed but not documented");
    }
  }
  for (const auto& [method, path] : documented) {
    if (!routed.count({method, path})) {
      differences.push_back(method + " " + path + " is documented but not routed");
    }
  }
  return differences;
}

}  // namespace wallet::http
