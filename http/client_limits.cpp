#include "http/client_limits.hpp"

#include <chrono>

namespace wallet::http {

namespace {

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Printable ASCII without spaces, at most kMaxApiKeyLength: anything else names no client.
bool plain_api_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxApiKeyLength) return false;
  for (char c : key) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RouteClass classify(const std::string& method, const std::string& pattern) {
  if (pattern == "/admin" || starts_with(pattern, "/admin/")) return RouteClass::admin;
  if (pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics") {
    return RouteClass::exempt;
  }
  return method == "GET" || method == "HEAD" ? RouteClass::reads : RouteClass::money;
}

std::string client_identity(const HttpRequest& request, const JwtVerifier* verifier,
                            const std::function<std::string()>& remote_host) {
  if (verifier) {
    if (auto authorization = request.header("authorization")) {
      if (auto token = bearer_token(*authorization)) {
        auto verdict = verifier->verify(*token);
        if (verdict.ok() && verdict.claims.subject && !verdict.claims.subject->empty()) {
          return "sub:" + *verdict.claims.subject;
        }
      }
    }
  }
  auto key = request.headers.find("x-api-key");
  if (key != request.headers.end() && plain_api_key(key->second)) return "key:" + key->second;
  return "addr:" + remote_host();
}

std::string policy_header(RouteClass route_class, const RateLimit& limit) {
  return "\"" + std::string(class_name(route_class)) + "\";q=" + std::to_string(limit.per_second) +
         ";w=1";
}

std::string state_header(RouteClass route_class, const RateVerdict& verdict) {
  return "\"" + std::string(class_name(route_class)) + "\";r=" + std::to_string(verdict.remaining) +
         ";t=" + std::to_string(verdict.reset_seconds);
}

ClientLimits::ClientLimits(RateLimits limits, const std::string& jwt_secret, Metrics& metrics)
    : limiter_(std::make_shared<RateLimiter>(limits)), metrics_(metrics) {
  if (!jwt_secret.empty()) verifier_.emplace(jwt_secret);
  for (size_t i = 0; i < kRouteClasses; ++i) {
    policies_[i] = policy_header(static_cast<RouteClass>(i), limits.classes[i]);
  }
  metrics_.describe("http_rate_limited_total", "counter",
                    "Requests answered 429 rate_limited (a client over its limit), by class");
  metrics_.gauge("http_rate_limit_clients",
                 "Clients whose rate-limit buckets are kept (at most RATE_LIMIT_CLIENTS)",
                 // The table, not `this`: Metrics may outlive this server (tests share one).
                 [limiter = limiter_] {
                   return std::vector<std::pair<Labels, double>>{
                       {{}, static_cast<double>(limiter->clients())}};
                 });
}

bool ClientLimits::admit(const HttpRequest& request, const Route& route,
                         const std::function<std::string()>& remote_host, Responder& responder) {
  const RouteClass route_class = classify(route.method, route.pattern);
  if (route_class == RouteClass::exempt) return true;
  const RateLimit& limit = limiter_->limits().of(route_class);
  if (!limit.limited()) return true;
  const std::string client =
      client_identity(request, verifier_ ? &*verifier_ : nullptr, remote_host);
  const RateVerdict verdict = limiter_->check(route_class, client, steady_now_ns());
  const size_t index = static_cast<size_t>(route_class);
  HeaderList headers{{"RateLimit-Policy", policies_[index]},
                     {"RateLimit", state_header(route_class, verdict)}};
  if (verdict.allowed) {
    responder.add_headers(std::move(headers));
    return true;
  }
  const std::string retry_after = std::to_string(verdict.retry_after_seconds);
  headers.emplace_back("Retry-After", retry_after);
  metrics_.count("http_rate_limited_total", {{"class", std::string(class_name(route_class))}});
  responder.send_error(
      {domain::ErrorCode::rate_limited, "this client is over its rate limit for " +
                                            std::string(class_name(route_class)) +
                                            " requests; retry after " + retry_after + " s"},
      headers);
  return false;
}

}  // namespace wallet::http
