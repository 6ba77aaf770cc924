// HttpServer: the Pistache listener of a service, configured deliberately (threads, request size,
// header/body timeouts against slow clients) and wrapped so that every request gets a request id,
// a route match, a JSON answer for every failure, and no exception ever reaches Pistache.
// Connections are handled by ServerTransport (server_transport.hpp): everything that touches
// Pistache runs on the connection's reactor thread, answers come back through a queue.
#pragma once

#include <pistache/listener.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/client_limits.hpp"
#include "http/metrics.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"
#include "http/server_transport.hpp"

namespace wallet::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 2;
  size_t max_body = 64 * 1024;  // SPEC: larger bodies are 413 payload_too_large
  // Reading a request only: measured from the connection's start or the previous answer. A request
  // that has been read is never answered by the server on its own, however long its handler takes.
  std::chrono::milliseconds header_timeout{5'000};
  std::chrono::milliseconds body_timeout{10'000};
  // How long a connection may sit idle between requests.
  std::chrono::milliseconds keepalive_timeout{15'000};
  // Open connections beyond this are answered 503 and closed at once (Pistache has no such limit;
  // its `backlog` only sizes the kernel's accept queue).
  size_t max_connections = 1024;
  // Per-client rate limits (SPEC.md section 9, client_limits.hpp). None limited: the server never
  // looks at them (no allocation, no lock, no clock read per request).
  RateLimits rate_limits;
  // Set: a client whose bearer token verifies with it is limited as the token's subject.
  std::string jwt_secret;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router, Metrics& metrics);
  ~HttpServer();

  void start();  // serves on Pistache's own threads; returns at once
  void stop();
  uint16_t port() const;

 private:
  void dispatch(const Pistache::Http::Request& raw, ReplyTarget target,
                std::chrono::steady_clock::time_point received_at) const;

  ServerOptions options_;
  Router router_;
  Metrics& metrics_;
  std::shared_ptr<ConnectionGate> gate_;
  std::unique_ptr<ClientLimits> limits_;  // null when no class is limited
  std::unique_ptr<Pistache::Tcp::Listener> listener_;
  bool running_ = false;
};

}  // namespace wallet::http
