#include "http/common.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace wallet::http {

ReadinessProbe::ReadinessProbe(std::vector<Check> checks) : checks_(std::move(checks)) {
  thread_ = std::thread([this] { loop(); });
}

ReadinessProbe::~ReadinessProbe() { stop(); }

void ReadinessProbe::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> ReadinessProbe::failing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!checked_) return {"starting"};
  return failing_;
}

void ReadinessProbe::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::vector<std::string> failing;
    for (const auto& check : checks_) {
      bool ok = false;
      try {
        ok = check.healthy();
      } catch (const std::exception&) {
        ok = false;
      }
      if (!ok) failing.push_back(check.part);
    }
    lock.lock();
    failing_ = std::move(failing);
    checked_ = true;
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
  }
}

void add_health_routes(Router& router, Metrics& metrics, const ReadinessProbe& probe) {
  // Set by scripts/supervise: how many times this service was restarted before this process.
  double restarts = 0;
  if (const char* given = std::getenv("WALLET_RESTARTS"); given && *given) {
    restarts = std::strtod(given, nullptr);
  }
  metrics.gauge("wallet_process_restarts",
                "Times the supervisor restarted this service (crashes and other exits)",
                [restarts] {
                  return std::vector<std::pair<Labels, double>>{{{}, restarts}};
                });
  router.add("GET", "/healthz", [](const HttpRequest&, ResponderPtr responder) {
    responder->send(200, R"({"status":"ok"})");
  });
  router.add("GET", "/readyz", [&probe](const HttpRequest&, ResponderPtr responder) {
    auto failing = probe.failing();
    if (failing.empty()) {
      responder->send(200, R"({"status":"ready"})");
      return;
    }
    std::string parts;
    for (const auto& part : failing) parts += (parts.empty() ? "" : ", ") + part;
    nlohmann::json body{{"error", {{"code", "unavailable"}, {"message", "not ready: " + parts}}},
                        {"failing", failing}};
    responder->send(503, body.dump());
  });
  router.add("GET", "/metrics", [&metrics](const HttpRequest&, ResponderPtr responder) {
    responder->send(200, metrics.render(), {}, "text/plain; version=0.0.4");
  });
}

bool require_json(const HttpRequest& request, const ResponderPtr& responder) {
  auto type = request.header("content-type");
  if (!type) return true;
  std::string value = *type;
  for (auto& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto semicolon = value.find(';');
  std::string media = value.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (media == "application/json") return true;
  responder->send_error(
      {domain::ErrorCode::unsupported_media_type, "the request body must be application/json"});
  return false;
}

bool bearer_matches(const HttpRequest& request, const std::string& expected) {
  if (expected.empty()) return false;
  auto header = request.header("authorization");
  static const std::string kPrefix = "Bearer ";
  if (!header || header->size() < kPrefix.size() ||
      header->compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  std::string given = header->substr(kPrefix.size());
  // Hash both sides first: equal-length digests make the comparison time independent of where the
  // strings differ and of the token's length.
  auto a = sha256_hex(given);
  auto b = sha256_hex(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

// The claims of the request's verified bearer token, or nullopt after answering 401. Runs before
// the body is looked at, so an unauthenticated client learns nothing about its request.
std::optional<JwtClaims> authenticate(const JwtVerifier& verifier, const HttpRequest& request,
                                      const ResponderPtr& responder) {
  auto header = request.header("authorization");
  auto token = header ? bearer_token(*header) : std::nullopt;
  const JwtVerdict verdict = token ? verifier.verify(*token) : JwtVerdict{JwtStatus::missing, {}};
  if (verdict.ok()) return verdict.claims;
  responder->send_error(
      {domain::ErrorCode::unauthorized, std::string(describe(verdict.status))},
      {{"WWW-Authenticate",
        verdict.status == JwtStatus::missing ? "Bearer" : "Bearer error=\"invalid_token\""}});
  return std::nullopt;
}

void forbid(const ResponderPtr& responder, const char* why) {
  responder->send_error({domain::ErrorCode::forbidden, why});
}

}  // namespace wallet::http
