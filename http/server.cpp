#include "http/server.hpp"

#include <atomic>
#include <cctype>

#include <spdlog/spdlog.h>

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
    for (char c : *given) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
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

class HttpServer::RequestHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)

  RequestHandler(const Router* router, Metrics* metrics, size_t max_body)
      : router_(router), metrics_(metrics), max_body_(max_body) {}

  void onRequest(const Http::Request& raw, Http::ResponseWriter writer) override {
    std::shared_ptr<Responder> responder;
    try {
      HttpRequest request = copy_request(raw);
      responder = std::make_shared<Responder>(std::move(writer), request_id_for(request),
                                              request.method, "unmatched", metrics_);
      const Route* route = nullptr;
      switch (router_->match(request, &route)) {
        case Router::Match::not_found:
          responder->send_error({domain::ErrorCode::not_found, "no such path: " + request.path});
          return;
        case Router::Match::wrong_method:
          responder->send_error({domain::ErrorCode::method_not_allowed,
                                 request.method + " is not allowed on " + request.path});
          return;
        case Router::Match::found:
          break;
      }
      responder->set_route(route->pattern);
      if (request.body.size() > max_body_) {
        responder->send_error({domain::ErrorCode::payload_too_large,
                               "the request body is larger than " + std::to_string(max_body_) +
                                   " bytes"});
        return;
      }
      route->handler(request, responder);
    } catch (const std::exception& e) {
      spdlog::error("event=handler_exception request_id={} cause=\"{}\"",
                    responder ? responder->request_id() : "-", e.what());
      if (responder) responder->send_error({domain::ErrorCode::internal, "internal error"});
    }
  }

  void onTimeout(const Http::Request&, Http::ResponseWriter writer) override {
    // A client that trickles its headers or body is cut off so it cannot hold a worker.
    try {
      writer.send(Http::Code::Request_Timeout,
                  domain::error_body({domain::ErrorCode::request_timeout, "the request was not received in time"}))
          .then([](ssize_t) {}, Async::IgnoreException);
    } catch (const std::exception&) {
    }
  }

 private:
  const Router* router_;
  Metrics* metrics_;
  size_t max_body_;
};

HttpServer::HttpServer(ServerOptions options, Router router, Metrics& metrics)
    : options_(std::move(options)), router_(std::move(router)), metrics_(metrics) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  Address address(options_.host, Port(options_.port));
  endpoint_ = std::make_unique<Http::Endpoint>(address);
  // Pistache's buffer limit counts the request line and headers too: leave room above max_body so
  // that a body just over the limit reaches our handler and gets the JSON 413 of the contract.
  auto opts = Http::Endpoint::options()
                  .threads(options_.threads)
                  .flags(Tcp::Options::ReuseAddr)
                  .maxRequestSize(options_.max_body + 16 * 1024)
                  .maxResponseSize(4 * 1024 * 1024)
                  .headerTimeout(options_.header_timeout)
                  .bodyTimeout(options_.body_timeout);
  endpoint_->init(opts);
  endpoint_->setHandler(Http::make_handler<RequestHandler>(&router_, &metrics_, options_.max_body));
  endpoint_->serveThreaded();
  running_ = true;
  spdlog::info("event=http_listening host={} port={} threads={}", options_.host, port(),
               options_.threads);
}

uint16_t HttpServer::port() const {
  return endpoint_ ? static_cast<uint16_t>(endpoint_->getPort()) : options_.port;
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  endpoint_->shutdown();
}

}  // namespace wallet::http
