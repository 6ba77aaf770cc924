// ClientLimits: the per-client rate limits of SPEC.md section 9 as HttpServer applies them, after
// a request matched its route and before its handler (so before any idempotency gate) runs:
//  - the route's class: `admin` for /admin and below, `money` for every other POST (each moves,
//    reserves or opens something), `reads` for the other GETs; /healthz, /readyz and /metrics are
//    exempt (probes and scrapes must never be refused for a busy address);
//  - the client: the JWT subject when the service verifies JWTs and the bearer token verifies,
//    else the X-Api-Key header, else the remote address;
//  - the answer when over the limit: 429 rate_limited with Retry-After, RateLimit-Policy and
//    RateLimit (draft-ietf-httpapi-ratelimit-headers-08); allowed requests of a limited class get
//    RateLimit-Policy and RateLimit too.
// Built only when RATE_LIMITS names a limit: with none the server never calls it.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/jwt.hpp"
#include "http/metrics.hpp"
#include "http/rate_limiter.hpp"
#include "http/responder.hpp"
#include "http/router.hpp"

namespace wallet::http {

// Longer X-Api-Key values are not taken as a client's name (the address is used instead).
constexpr size_t kMaxApiKeyLength = 256;

RouteClass classify(const std::string& method, const std::string& pattern);

// "sub:<subject>", "key:<X-Api-Key>" or "addr:<remote address>" (the prefix keeps a key from
// posing as an address). `verifier` is null when the service verifies no JWT; `remote_host` is
// called only when neither a subject nor a key names the client.
std::string client_identity(const HttpRequest& request, const JwtVerifier* verifier,
                            const std::function<std::string()>& remote_host);

// `"money";q=100;w=1`: the class's sustained quota per one-second window.
std::string policy_header(RouteClass route_class, const RateLimit& limit);
// `"money";r=<remaining>;t=<seconds until the bucket is full again>`.
std::string state_header(RouteClass route_class, const RateVerdict& verdict);

class ClientLimits {
 public:
  // `jwt_secret` empty: no client is named by a JWT subject.
  ClientLimits(RateLimits limits, const std::string& jwt_secret, Metrics& metrics);

  // True when the request may go on (its RateLimit headers are on `responder` for its answer);
  // false when it was answered 429 here.
  bool admit(const HttpRequest& request, const Route& route,
             const std::function<std::string()>& remote_host, Responder& responder);

  RateLimiter& limiter() { return *limiter_; }

 private:
  std::shared_ptr<RateLimiter> limiter_;  // shared with the clients gauge
  std::optional<JwtVerifier> verifier_;
  std::array<std::string, kRouteClasses> policies_;  // RateLimit-Policy per class, built once
  Metrics& metrics_;
};

}  // namespace wallet::http
