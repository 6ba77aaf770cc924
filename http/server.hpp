// HttpServer: the Pistache endpoint of a service, configured deliberately (threads, request size,
// header/body timeouts against slow clients) and wrapped so that every request gets a request id,
// a route match, a JSON answer for every failure, and no exception ever reaches Pistache.
#pragma once

#include <pistache/endpoint.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/metrics.hpp"
#include "http/router.hpp"

namespace wallet::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 2;
  size_t max_body = 64 * 1024;  // SPEC: larger bodies are 413 payload_too_large
  std::chrono::milliseconds header_timeout{5'000};
  std::chrono::milliseconds body_timeout{10'000};
  // How long a connection may sit idle between requests. Pistache does not close a connection after
  // answering "Connection: Close"; without this (its default is 300 s) one request pins a socket.
  std::chrono::milliseconds keepalive_timeout{15'000};
  // Open connections beyond this are answered 503 and closed at once (Pistache has no such limit;
  // its `backlog` only sizes the kernel's accept queue).
  size_t max_connections = 1024;
};

class ConnectionGate;

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router, Metrics& metrics);
  ~HttpServer();

  void start();  // serves on Pistache's own threads; returns at once
  void stop();
  uint16_t port() const;

 private:
  class RequestHandler;

  ServerOptions options_;
  Router router_;
  Metrics& metrics_;
  std::shared_ptr<ConnectionGate> gate_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  bool running_ = false;
};

}  // namespace wallet::http
