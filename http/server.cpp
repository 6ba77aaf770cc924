#include "http/server.hpp"

#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <cstring>

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

// Pistache 0.0.5 answers `Connection: Close` to a request without a Connection header, which makes
// HTTP/1.1 clients reconnect for every request; HTTP/1.1 connections are persistent by default.
void keep_alive_by_default(const Http::Request& request, Http::ResponseWriter& writer) {
  if (request.version() != Http::Version::Http11) return;
  if (request.headers().tryGet<Http::Header::Connection>()) return;
  writer.headers().remove<Http::Header::Connection>();
  writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
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

// Peer data keys of ours, next to Pistache's own "__Parser".
constexpr const char* kConnectionTicket = "wallet.connection";
constexpr const char* kDiscardInput = "wallet.discard";

// The answer to a connection over the limit, written straight to the new socket before Pistache
// reads from it (nothing else can be writing to it yet).
constexpr char kTooManyConnections[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 78\r\n\r\n"
    R"({"error":{"code":"unavailable","message":"too many connections, retry later"}})";
static_assert(
    sizeof(R"({"error":{"code":"unavailable","message":"too many connections, retry later"}})") -
        1 ==
    78);

// A parser message for the log: some quote client bytes ("Invalid port: <host>"), so anything
// that could forge a log line or drive a terminal is replaced, and the length is capped.
std::string loggable(std::string_view cause) {
  std::string out;
  for (char c : cause.substr(0, 200)) {
    const bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    out += plain ? c : '?';
  }
  return out;
}

// What Pistache's parser threw, as one of our errors: its own texts (and e.what() of the standard
// exceptions its header parsers throw, such as "stoull") never reach the client.
domain::Error parse_failure(int status) {
  switch (status) {
    case 413:
      return {domain::ErrorCode::payload_too_large, "the request is too large"};
    case 415:
      return {domain::ErrorCode::unsupported_media_type, "a media type header is malformed"};
    default:  // including Pistache's 501 for a Transfer-Encoding other than chunked
      return {domain::ErrorCode::bad_request, "the request is not well-formed HTTP/1.1"};
  }
}

}  // namespace

// Counts the open connections of all the endpoint's worker threads (each has its own handler
// clone). A connection holds a Ticket in its peer data; Pistache destroys the peer however the
// connection ends (client close, timeout, error), and the Ticket's destructor frees the slot.
class ConnectionGate : public std::enable_shared_from_this<ConnectionGate> {
 public:
  explicit ConnectionGate(size_t limit) : limit_(limit) {}

  // A ticket for one more connection, or nullptr when `limit` are open.
  std::shared_ptr<void> admit() {
    if (open_.fetch_add(1) >= limit_) {
      open_.fetch_sub(1);
      refused_.fetch_add(1);
      return nullptr;
    }
    return std::make_shared<Ticket>(shared_from_this());
  }

  size_t open() const { return open_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  struct Ticket {
    explicit Ticket(std::shared_ptr<ConnectionGate> owner) : gate(std::move(owner)) {}
    ~Ticket() { gate->open_.fetch_sub(1); }
    std::shared_ptr<ConnectionGate> gate;
  };

  const size_t limit_;
  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> refused_{0};
};

class HttpServer::RequestHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)

  RequestHandler(const Router* router, Metrics* metrics, size_t max_body,
                 std::shared_ptr<ConnectionGate> gate)
      : router_(router), metrics_(metrics), max_body_(max_body), gate_(std::move(gate)) {}

  // Replaces Http::Handler::onConnection (same parser set-up) to enforce the connection limit.
  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    auto ticket = gate_->admit();
    if (ticket) {
      peer->putData(kConnectionTicket, std::move(ticket));
      return;
    }
    // Over the limit: answer and shut the socket down; Pistache then reads end-of-file, removes
    // the peer and closes the descriptor itself (so no descriptor is closed behind its back).
    peer->putData(kDiscardInput, std::make_shared<bool>(true));
    const ssize_t sent = ::send(peer->fd(), kTooManyConnections, sizeof(kTooManyConnections) - 1,
                                MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent;  // best effort: the client may already be gone
    ::shutdown(peer->fd(), SHUT_RDWR);
    if (metrics_) metrics_->count("http_connections_refused_total", {});
  }

  // Replaces Http::Handler::onInput of Pistache 0.0.5 step for step, except for failures: the
  // original answers parse errors with its own plain-text reason and any other exception with a
  // 500 carrying e.what() ("stoull", "basic_string::_M_create"); here both become the contract's
  // JSON error, the cause goes to the log, and the rest of that connection's input is ignored
  // (its framing can no longer be trusted).
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    if (peer->tryGetData(kDiscardInput)) return;
    auto parser = getParser(peer);
    auto& request = parser->request;
    try {
      if (!parser->feed(buffer, len)) {
        throw Http::HttpError(Http::Code::Request_Entity_Too_Large,
                              "Request exceeded maximum buffer size");
      }
      if (parser->parse() != Http::Private::State::Done) {
        refuse_declared_oversize(*parser);
        return;
      }
      Http::ResponseWriter response(request.version(), transport(), this, peer);
      request.copyAddress(peer->address());
      auto connection = request.headers().tryGet<Http::Header::Connection>();
      response.headers().add<Http::Header::Connection>(connection ? connection->control()
                                                                  : Http::ConnectionControl::Close);
      peer->setIdle(false);
      onRequest(request, std::move(response));
      parser->reset();
    } catch (const Http::HttpError& error) {
      reject(peer, request.version(), parse_failure(error.code()), error.what());
      parser->reset();
    } catch (const std::exception& error) {
      reject(peer, request.version(), parse_failure(400), error.what());
      parser->reset();
    }
  }

  void onRequest(const Http::Request& raw, Http::ResponseWriter writer) override {
    std::shared_ptr<Responder> responder;
    try {
      keep_alive_by_default(raw, writer);
      HttpRequest request = copy_request(raw);
      responder = std::make_shared<Responder>(std::move(writer), request_id_for(request),
                                              request.method, "unmatched", metrics_);
      const Route* route = nullptr;
      // The path is not echoed: error messages are ours, never the client's bytes.
      switch (router_->match(request, &route)) {
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
      if (request.body.size() > max_body_) {
        responder->send_error(
            {domain::ErrorCode::payload_too_large,
             "the request body is larger than " + std::to_string(max_body_) + " bytes"});
        return;
      }
      route->handler(request, responder);
    } catch (const std::exception& e) {
      spdlog::error("event=handler_exception request_id={} cause=\"{}\"",
                    responder ? responder->request_id() : "-", e.what());
      if (responder) responder->send_error({domain::ErrorCode::internal, "internal error"});
    }
  }

  // Pistache 0.0.5 answers header and body timeouts itself (TransportImpl::closePeer sends a bare
  // 408 and closes), so this runs only for timeouts armed on a ResponseWriter.
  void onTimeout(const Http::Request&, Http::ResponseWriter writer) override {
    try {
      writer
          .send(Http::Code::Request_Timeout,
                domain::error_body(
                    {domain::ErrorCode::request_timeout, "the request was not received in time"}),
                MIME(Application, Json))
          .then([](ssize_t) {}, Async::IgnoreException);
    } catch (const std::exception&) {
    }
  }

 private:
  // Pistache reserves a body's declared Content-Length as soon as the headers are in (a client
  // announcing 2 GB gets 2 GB of address space until its body timeout). A body the contract
  // refuses anyway is refused now: the parser's reset in onInput frees the reservation.
  void refuse_declared_oversize(Http::RequestParser& parser) const {
    if (parser.step()->id() != Http::Private::BodyStep::Id) return;
    auto length = parser.request.headers().tryGet<Http::Header::ContentLength>();
    if (length && length->value() > max_body_) {
      throw Http::HttpError(Http::Code::Request_Entity_Too_Large, "declared body over the limit");
    }
  }

  // Answers a request Pistache could not parse, then ignores the connection's further input; it
  // is closed by the client (we say Connection: close) or by the keep-alive timeout.
  void reject(const std::shared_ptr<Tcp::Peer>& peer, Http::Version version,
              const domain::Error& error, const char* cause) {
    try {
      auto responder =
          std::make_shared<Responder>(Http::ResponseWriter(version, transport(), this, peer),
                                      domain::new_uuid_v4(), "-", "unparsed", metrics_);
      spdlog::info("event=request_rejected request_id={} status={} cause=\"{}\"",
                   responder->request_id(), domain::http_status(error.code), loggable(cause));
      responder->send_error(error, {{"Connection", "close"}});
      peer->putData(kDiscardInput, std::make_shared<bool>(true));
      peer->setIdle(true);  // so the keep-alive timeout closes it silently, without a 408
    } catch (const std::exception& e) {
      spdlog::warn("event=reject_failed cause=\"{}\"", e.what());
    }
  }

  const Router* router_;
  Metrics* metrics_;
  size_t max_body_;
  std::shared_ptr<ConnectionGate> gate_;
};

HttpServer::HttpServer(ServerOptions options, Router router, Metrics& metrics)
    : options_(std::move(options)),
      router_(std::move(router)),
      metrics_(metrics),
      gate_(std::make_shared<ConnectionGate>(options_.max_connections)) {}

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
                  .bodyTimeout(options_.body_timeout)
                  .keepaliveTimeout(options_.keepalive_timeout);
  endpoint_->init(opts);
  endpoint_->setHandler(
      Http::make_handler<RequestHandler>(&router_, &metrics_, options_.max_body, gate_));
  metrics_.gauge("http_connections_open", "Open client connections", [gate = gate_] {
    return std::vector<std::pair<Labels, double>>{{{}, static_cast<double>(gate->open())}};
  });
  metrics_.describe("http_connections_refused_total", "counter",
                    "Connections answered 503 because max_connections were open");
  endpoint_->serveThreaded();
  running_ = true;
  spdlog::info("event=http_listening host={} port={} threads={} max_connections={}", options_.host,
               port(), options_.threads, options_.max_connections);
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
