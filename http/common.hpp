// Pieces every service's HTTP API shares: health, readiness and metrics routes, the JSON
// content-type rule, bearer-token checks in constant time, and request fingerprints.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/jwt.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace wallet::http {

// Runs named checks (Postgres, Kafka, NATS) on its own thread every second and keeps the last
// results, so /readyz answers at once and never blocks a reactor thread.
class ReadinessProbe {
 public:
  struct Check {
    std::string part;
    std::function<bool()> healthy;  // may block briefly
  };
  explicit ReadinessProbe(std::vector<Check> checks);
  ~ReadinessProbe();

  // Empty when ready; otherwise the names of the failing parts.
  std::vector<std::string> failing() const;
  void stop();

 private:
  void loop();

  std::vector<Check> checks_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> failing_;
  bool checked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

void add_health_routes(Router& router, Metrics& metrics, const ReadinessProbe& probe);

// True when the body is declared JSON (or not declared at all); otherwise answers 415.
bool require_json(const HttpRequest& request, const ResponderPtr& responder);

// Compares `Authorization: Bearer <token>` with the expected token in constant time. An empty
// expected token refuses everyone.
bool bearer_matches(const HttpRequest& request, const std::string& expected);

std::string sha256_hex(std::string_view text);

// The claims of the request's verified bearer token, or nullopt after answering 401. Runs before
// the body is looked at, so an unauthenticated client learns nothing about its request.
std::optional<JwtClaims> authenticate(const JwtVerifier& verifier, const HttpRequest& request,
                                      const ResponderPtr& responder);
// Answers 403 forbidden with `why`.
void forbid(const ResponderPtr& responder, const char* why);

}  // namespace wallet::http
