#include "http/openapi.hpp"

#include <spdlog/spdlog.h>

#include "http/embedded_assets.hpp"
#include "http/openapi_check.hpp"
#include "http/static_assets.hpp"

namespace wallet::http {

bool add_openapi_routes(Router& router, const std::string& service, bool strict) {
  const std::string name = "openapi/" + service + ".json";
  router.add("GET", "/openapi.json", serve_embedded_asset(name));

  std::vector<std::string> differences;
  auto text = find_embedded_asset(name);
  if (!text) {
    differences.push_back("no OpenAPI document " + name + " was embedded");
  } else {
    std::vector<RouteKey> routes;
    for (const auto& route : router.routes()) routes.emplace_back(route.method, route.pattern);
    auto document = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
    if (document.is_discarded()) {
      differences.push_back(name + " is not valid JSON");
    } else {
      differences = openapi_route_differences(routes, document);
    }
  }
  for (const auto& difference : differences) {
    spdlog::error("event=openapi_mismatch service={} difference=\"{}\"", service, difference);
  }
  if (differences.empty()) {
    spdlog::info("event=openapi_checked service={} routes={}", service, router.routes().size());
    return true;
  }
  if (strict) {
    spdlog::critical("event=startup_failed cause=\"routes and {} disagree (OPENAPI_CHECK=1)\"",
                     name);
    return false;
  }
  return true;
}

}  // namespace wallet::http
