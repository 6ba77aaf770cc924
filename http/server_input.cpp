// ServerTransport's input: bytes fed to Pistache's parser one request at a time (what is pipelined
// behind it waits), a complete request handed to the sink, and a request that cannot be parsed
// answered and its connection closed.
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "domain/error.hpp"
#include "domain/ids.hpp"
#include "http/server_transport.hpp"
#include "http/server_transport_internal.hpp"

namespace wallet::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;
using transport_internal::kConnection;

namespace {

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
    case 408:
      return {domain::ErrorCode::request_timeout, "the request was not received in time"};
    case 413:
      return {domain::ErrorCode::payload_too_large, "the request is too large"};
    case 415:
      return {domain::ErrorCode::unsupported_media_type, "a media type header is malformed"};
    default:  // including Pistache's 501 for a Transfer-Encoding other than chunked
      return {domain::ErrorCode::bad_request, "the request is not well-formed HTTP/1.1"};
  }
}

// HTTP/1.1 connections are persistent unless the client says otherwise; HTTP/1.0 ones close
// unless it asks for keep-alive. (Pistache 0.0.5 closes whenever the header is missing.)
bool wants_close(const Http::Request& request) {
  if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
    return connection->control() != Http::ConnectionControl::KeepAlive;
  }
  return request.version() != Http::Version::Http11;
}

// The bytes after the complete request at the start of `received`: a pipelined next request.
// Pistache's parser keeps its buffer private, so the request's length is worked out from its
// head and Content-Length. A chunked body's end is not known here: bytes after one are dropped,
// as Pistache 0.0.5 drops every byte after the first request.
std::string pipelined_after(const std::string& received, const Http::Request& request) {
  const size_t head_end = received.find("\r\n\r\n");
  if (head_end == std::string::npos) return {};
  if (request.headers().tryGet<Http::Header::TransferEncoding>()) return {};
  size_t length = head_end + 4;
  if (auto declared = request.headers().tryGet<Http::Header::ContentLength>()) {
    length += declared->value();
  }
  return length < received.size() ? received.substr(length) : std::string{};
}

}  // namespace

void ServerTransport::on_input(const char* data, size_t size,
                               const std::shared_ptr<Tcp::Peer>& peer) {
  auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection));
  if (!connection || connection->closing) return;
  if (connection->in_flight || connection->writing) {
    if (connection->pipelined.size() + size > options_.max_request) {
      // More pipelined than one request may hold: answer what is in flight, then close.
      connection->closing = true;
      connection->pipelined.clear();
      return;
    }
    connection->pipelined.append(data, size);
    return;
  }
  pump(peer, *connection, std::string(data, size));
}

// Feeds bytes to the parser; a complete request goes to the sink and what follows it waits.
void ServerTransport::pump(const std::shared_ptr<Tcp::Peer>& peer, Connection& connection,
                           std::string data) {
  if (data.empty()) return;
  auto parser = Http::Handler::getParser(peer);
  auto& request = parser->request;
  try {
    if (!parser->feed(data.data(), data.size())) {
      throw Http::HttpError(Http::Code::Request_Entity_Too_Large, "request over maxRequestSize");
    }
    // A request's time counts from its own first byte, not from the connection's idle wait (a
    // pipelined request: from when its turn comes, after the answer before it).
    if (connection.received.empty()) connection.request_since = Clock::now();
    connection.received += data;
    if (connection.received.size() > options_.max_head) {
      // The request line and headers are held to max_head whatever a route's body may be (only
      // bodies grow with max_request): a request whose head alone is larger is refused.
      const size_t head_end = connection.received.find("\r\n\r\n");
      if (head_end == std::string::npos || head_end + 4 > options_.max_head) {
        throw Http::HttpError(Http::Code::Request_Entity_Too_Large, "request head too large");
      }
    }
    if (parser->parse() != Http::Private::State::Done) {
      // Pistache reserves a body's declared Content-Length as soon as the headers are in: a body
      // the contract refuses anyway is refused now (the reset below frees the reservation).
      if (parser->step()->id() == Http::Private::BodyStep::Id) {
        auto length = request.headers().tryGet<Http::Header::ContentLength>();
        const size_t limit =
            options_.body_limit ? options_.body_limit(request.resource()) : options_.max_body;
        if (length && length->value() > limit) {
          throw Http::HttpError(Http::Code::Request_Entity_Too_Large, "declared body too large");
        }
      }
      return;
    }
    std::string next = pipelined_after(connection.received, request);
    request.copyAddress(peer->address());
    connection.in_flight = true;
    connection.version = request.version();
    sink_(request, ReplyTarget{replies_, peer, wants_close(request)}, connection.request_since);
    parser->reset();
    connection.received.clear();
    connection.pipelined = std::move(next);
  } catch (const Http::HttpError& error) {
    reject(peer, connection, error.code(), error.what());
  } catch (const std::exception& error) {
    reject(peer, connection, 400, error.what());
  }
}

// Answers a request Pistache could not parse with Connection: close, and ignores the rest of the
// connection's input: its framing can no longer be trusted.
void ServerTransport::reject(const std::shared_ptr<Tcp::Peer>& peer, Connection& connection,
                             int status, const char* cause) {
  const auto error = parse_failure(status);
  const auto request_id = domain::new_uuid_v4();
  spdlog::info("event=request_rejected request_id={} status={} cause=\"{}\"", request_id,
               domain::http_status(error.code), loggable(cause));
  Http::Handler::getParser(peer)->reset();
  connection.received.clear();
  connection.pipelined.clear();
  connection.in_flight = true;
  connection.closing = true;
  Responder responder(ReplyTarget{replies_, peer, true}, request_id, "-", "unparsed", metrics_);
  responder.send_error(error);
}

}  // namespace wallet::http
