#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "domain/ids.hpp"

namespace wallet::http {

using namespace Pistache;

namespace {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Accepts a client's X-Request-Id when it is short and plain, so it can be traced end to end.
std::string request_id_for(const HttpRequest& request) {
  if (auto given = request.header("x-request-id")) {
    bool plain = !given->empty() && given->size() <= 64;
    for (char c : *given)
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
    if (plain) return *given;
  }
  return domain::new_uuid_v4();
}

HttpRequest copy_request(const Http::Request& request) {
  HttpRequest out;
  out.method = Http::methodString(request.method());
  out.path = request.resource();
  out.body = request.body();
  for (auto it = request.query().parameters_begin(); it != request.query().parameters_end(); ++it) {
    out.query[percent_decode(it->first, true)] = percent_decode(it->second, true);
  }
  for (const auto& header : request.headers().list()) {
    std::ostringstream value;
    header->write(value);
    out.headers[lower(header->name())] = value.str();
  }
  for (const auto& [name, raw] : request.headers().rawList()) {
    out.headers[lower(name)] = raw.value();
  }
  return out;
}

}  // namespace

HttpServer::HttpServer(ServerOptions options, Router router, Metrics& metrics)
    : options_(std::move(options)),
      router_(std::move(router)),
      metrics_(metrics),
      gate_(std::make_shared<ConnectionGate>(options_.max_connections)) {
  if (options_.rate_limits.any()) {
    limits_ = std::make_unique<ClientLimits>(options_.rate_limits, options_.jwt_secret, metrics_);
  }
  // Before the first request: prometheus-cpp fixes a family's help when it is first used.
  metrics_.describe("http_requests_total", "counter",
                    "HTTP requests answered, by route and status");
  metrics_.describe("http_request_duration_seconds", "histogram",
                    "Time from a request's arrival to its answer, by route and status");
}

HttpServer::~HttpServer() { stop(); }

// On a reactor thread, for each complete request; never throws, and every path answers once.
void HttpServer::dispatch(const Http::Request& raw, ReplyTarget target,
                          std::chrono::steady_clock::time_point received_at) const {
  std::shared_ptr<Responder> responder;
  try {
    HttpRequest request = copy_request(raw);
    request.received_at = received_at;
    responder = std::make_shared<Responder>(std::move(target), request_id_for(request),
                                            request.method, "unmatched", &metrics_, received_at);
    const Route* route = nullptr;
    // The path is not echoed: error messages are ours, never the client's bytes.
    switch (router_.match(request, &route)) {
      case Router::Match::not_found:
        responder->send_error({domain::ErrorCode::not_found, "there is no such path"});
        return;
      case Router::Match::wrong_method:
        responder->send_error({domain::ErrorCode::method_not_allowed,
                               request.method + " is not allowed on this path"});
        return;
      case Router::Match::found:
        break;
    }
    responder->set_route(route->pattern);
    // Before the handler, so before any idempotency gate: a refused request changes nothing.
    if (limits_ && !limits_->admit(
                       request, *route, [&raw] { return raw.address().host(); }, *responder)) {
      return;
    }
    const size_t max_body = std::max(route->max_body, options_.max_body);
    if (request.body.size() > max_body) {
      responder->send_error(
          {domain::ErrorCode::payload_too_large,
           "the request body is larger than " + std::to_string(max_body) + " bytes"});
      return;
    }
    route->handler(request, responder);
  } catch (const std::exception& e) {
    spdlog::error("event=handler_exception request_id={} cause=\"{}\"",
                  responder ? responder->request_id() : "-", e.what());
    if (responder) responder->send_error({domain::ErrorCode::internal, "internal error"});
  }
}

void HttpServer::start() {
  Address address(options_.host, Port(options_.port));
  listener_ = std::make_unique<Tcp::Listener>(address);
  listener_->init(options_.threads, Flags<Tcp::Options>(Tcp::Options::ReuseAddr));
  TransportOptions transport;
  transport.header_timeout = options_.header_timeout;
  transport.body_timeout = options_.body_timeout;
  transport.keepalive_timeout = options_.keepalive_timeout;
  // Pistache's buffer limit counts the request line and headers too: leave room above max_body so
  // that a body just over the limit reaches the dispatcher and gets the JSON 413 of the contract.
  size_t largest = options_.max_body;
  for (const auto& route : router_.routes()) largest = std::max(largest, route.max_body);
  transport.max_request = largest + 16 * 1024;
  transport.max_head = options_.max_body + 16 * 1024;
  transport.max_body = options_.max_body;
  if (largest > options_.max_body) {
    transport.body_limit = [router = &router_,
                            standard = options_.max_body](const std::string& path) {
      return router->body_limit(path, standard);
    };
  }
  RequestSink sink = [this](const Http::Request& raw, ReplyTarget target,
                            std::chrono::steady_clock::time_point received_at) {
    dispatch(raw, std::move(target), received_at);
  };
  listener_->setTransportFactory([transport, sink, gate = gate_, metrics = &metrics_] {
    return std::make_shared<ServerTransport>(transport, sink, gate, metrics);
  });
  metrics_.gauge("http_connections_open", "Open client connections", [gate = gate_] {
    return std::vector<std::pair<Labels, double>>{{{}, static_cast<double>(gate->open())}};
  });
  metrics_.gauge("http_connections_max",
                 "Connections served at once; more are answered 503 (max_connections)",
                 [limit = options_.max_connections] {
                   return std::vector<std::pair<Labels, double>>{{{}, static_cast<double>(limit)}};
                 });
  metrics_.describe("http_connections_refused_total", "counter",
                    "Connections answered 503 because max_connections were open");
  listener_->bind();
  listener_->runThreaded();
  running_ = true;
  spdlog::info("event=http_listening host={} port={} threads={} max_connections={} rate_limits={}",
               options_.host, port(), options_.threads, options_.max_connections,
               limits_ ? "on" : "off");
}

uint16_t HttpServer::port() const {
  return listener_ ? static_cast<uint16_t>(listener_->getPort()) : options_.port;
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  listener_->shutdown();
}

}  // namespace wallet::http
