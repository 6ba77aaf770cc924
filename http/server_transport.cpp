#include "http/server_transport.hpp"

#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <vector>

#include "domain/error.hpp"
#include "domain/ids.hpp"

namespace wallet::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;

namespace {

// Peer data key of ours, next to Pistache's own "__Parser".
constexpr const char* kConnection = "wallet.connection";

// The answer to a connection over the limit, written straight to the new socket before anything
// else can write to it.
constexpr char kTooManyConnections[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 78\r\n\r\n"
    R"({"error":{"code":"unavailable","message":"too many connections, retry later"}})";
static_assert(
    sizeof(R"({"error":{"code":"unavailable","message":"too many connections, retry later"}})") -
        1 ==
    78);

// Pistache 0.0.5 writes only typed headers into a response (raw ones are dropped), so extra
// headers such as X-Request-Id travel as this one generic typed header.
class NamedHeader : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_;
  std::string value_;
};

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

struct ConnectionGate::Ticket {
  explicit Ticket(std::shared_ptr<ConnectionGate> owner) : gate(std::move(owner)) {}
  ~Ticket() { gate->open_.fetch_sub(1); }
  std::shared_ptr<ConnectionGate> gate;
};

std::shared_ptr<void> ConnectionGate::admit() {
  if (open_.fetch_add(1) >= limit_) {
    open_.fetch_sub(1);
    return nullptr;
  }
  return std::make_shared<Ticket>(shared_from_this());
}

// Per connection, in the peer's data; read and written on its reactor thread only.
struct ServerTransport::Connection {
  std::shared_ptr<void> ticket;
  std::string received;    // bytes of the request being parsed (fed to Pistache's parser)
  std::string pipelined;   // bytes that arrived while a request was in flight
  bool in_flight = false;  // a request was handed to a handler and is not answered yet
  bool writing = false;    // its answer was handed to Pistache and is not fully written yet
  bool closing = false;    // answered with Connection: close; further input is ignored
  bool served = false;     // at least one request was answered on this connection
  Clock::time_point waiting_since = Clock::now();  // connection start, or the last answer
  Clock::time_point request_since;                 // first byte of the request being parsed
  Http::Version version = Http::Version::Http11;
};

// Pistache calls a Tcp::Handler for input; this one hands everything to its transport.
class ServerTransport::InputHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(InputHandler)

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    owner()->on_connection(peer);
  }
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    owner()->on_input(buffer, len, peer);
  }
  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    owner()->on_disconnection(peer);
  }
  // Never called: requests are dispatched by the transport, not by Http::Handler::onInput.
  void onRequest(const Http::Request&, Http::ResponseWriter) override {}

 private:
  ServerTransport* owner() { return static_cast<ServerTransport*>(transport()); }
};

ServerTransport::ServerTransport(TransportOptions options, RequestSink sink,
                                 std::shared_ptr<ConnectionGate> gate, Metrics* metrics)
    : ServerTransport(std::make_shared<InputHandler>(), std::move(options), std::move(sink),
                      std::move(gate), metrics) {}

ServerTransport::ServerTransport(std::shared_ptr<InputHandler> handler, TransportOptions options,
                                 RequestSink sink, std::shared_ptr<ConnectionGate> gate,
                                 Metrics* metrics)
    : Tcp::Transport(handler),
      handler_(std::move(handler)),
      options_(std::move(options)),
      sink_(std::move(sink)),
      gate_(std::move(gate)),
      metrics_(metrics),
      replies_(std::make_shared<ReplyQueue>()) {
  handler_->setMaxRequestSize(options_.max_request);
  handler_->setMaxResponseSize(4 * 1024 * 1024);
}

ServerTransport::~ServerTransport() {
  replies_->close();  // Responders that answer later drop their replies instead of queueing them
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

std::shared_ptr<Aio::Handler> ServerTransport::clone() const {
  return std::make_shared<ServerTransport>(options_, sink_, gate_, metrics_);
}

void ServerTransport::registerPoller(Polling::Epoll& poller) {
  Tcp::Transport::registerPoller(poller);
  poller.addFd(replies_->fd(), Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
               Polling::Tag(replies_->fd()));
  // The timeout sweep, twice a second (as Pistache's own).
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) throw std::runtime_error("timerfd_create failed");
  itimerspec spec{};
  spec.it_value.tv_nsec = 500'000'000;
  spec.it_interval.tv_nsec = 500'000'000;
  ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
  poller.addFd(timer_fd_, Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
               Polling::Tag(timer_fd_));
}

void ServerTransport::onReady(const Aio::FdSet& fds) {
  // An exception escaping onReady would end the reactor thread and the process with it.
  try {
    for (const auto& entry : fds) {
      const auto tag = entry.getTag();
      if (tag == Polling::Tag(replies_->fd())) {
        drain_replies();
      } else if (tag == Polling::Tag(timer_fd_)) {
        uint64_t expirations = 0;
        const ssize_t got = ::read(timer_fd_, &expirations, sizeof expirations);
        (void)got;
        check_timeouts();
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("event=reactor_error cause=\"{}\"", e.what());
  }
  Tcp::Transport::onReady(fds);
}

void ServerTransport::on_connection(const std::shared_ptr<Tcp::Peer>& peer) {
  peer->putData(Http::Handler::ParserData,
                std::make_shared<Http::RequestParser>(options_.max_request));
  auto connection = std::make_shared<Connection>();
  connection->ticket = gate_->admit();
  if (!connection->ticket) {
    // Over the limit: answer and shut the socket down; Pistache then reads end-of-file, removes
    // the peer and closes the descriptor itself (so no descriptor is closed behind its back).
    connection->closing = true;
    peer->putData(kConnection, connection);
    const ssize_t sent = ::send(peer->fd(), kTooManyConnections, sizeof(kTooManyConnections) - 1,
                                MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent;  // best effort: the client may already be gone
    ::shutdown(peer->fd(), SHUT_RDWR);
    if (metrics_) metrics_->count("http_connections_refused_total", {});
    return;
  }
  peer->putData(kConnection, connection);
}

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

void ServerTransport::drain_replies() {
  for (auto& reply : replies_->take()) {
    auto peer = reply.peer.lock();
    if (!peer || !is_current(peer)) {
      spdlog::info("event=response_dropped request_id={} cause=\"client went away\"",
                   reply.request_id);
      continue;
    }
    auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection));
    if (!connection) continue;
    write(peer, *connection, reply);
  }
}

void ServerTransport::write(const std::shared_ptr<Tcp::Peer>& peer, Connection& connection,
                            const PendingReply& reply) {
  const bool close = reply.close || connection.closing;
  connection.in_flight = false;
  connection.writing = true;
  connection.waiting_since = Clock::now();
  if (close) {
    connection.closing = true;
    connection.pipelined.clear();
  }
  try {
    Http::ResponseWriter writer(connection.version, this, handler_.get(), peer);
    writer.headers().add(
        std::make_shared<NamedHeader>("Connection", close ? "close" : "keep-alive"));
    writer.headers().add(std::make_shared<NamedHeader>("X-Request-Id", reply.request_id));
    for (const auto& [name, value] : reply.headers) {
      if (name != "Connection") writer.headers().add(std::make_shared<NamedHeader>(name, value));
    }
    std::weak_ptr<Tcp::Peer> weak = peer;
    // Both continuations run on this thread: Pistache resolves a write where it performs it.
    writer
        .send(static_cast<Http::Code>(reply.status), reply.body,
              Http::Mime::MediaType::fromString(reply.content_type))
        .then([this, weak](ssize_t) { written(weak); },
              [this, weak](std::exception_ptr) { close_now(weak); });
    // Write now, on this thread: the answer cannot wait in Pistache's queue while its descriptor
    // is closed and reused by a new connection.
    flush();
  } catch (const std::exception& e) {
    spdlog::info("event=response_dropped request_id={} cause=\"{}\"", reply.request_id, e.what());
    close_now(peer);
  }
}

// The whole answer is in the kernel. Only now is the next pipelined request parsed: a client that
// pipelines requests and does not read holds at most one answer in memory, not one per request.
void ServerTransport::written(const std::weak_ptr<Tcp::Peer>& weak) {
  auto peer = weak.lock();
  if (!peer || !is_current(peer)) return;
  auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection));
  if (!connection) return;
  connection->writing = false;
  connection->served = true;
  connection->waiting_since = Clock::now();
  if (connection->closing) {
    close_now(peer);
    return;
  }
  pump(peer, *connection, std::exchange(connection->pipelined, {}));
}

// Shutting the socket down makes Pistache read end-of-file and remove the peer itself, on this
// thread, in its own order (the descriptor is never closed behind its back).
void ServerTransport::close_now(const std::weak_ptr<Tcp::Peer>& weak) {
  auto peer = weak.lock();
  if (!peer || !is_current(peer)) return;
  if (auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection))) {
    connection->closing = true;
  }
  ::shutdown(peer->fd(), SHUT_RDWR);
}

// True when `peer` is still the connection its descriptor belongs to (a descriptor is reused as
// soon as Pistache closes it).
bool ServerTransport::is_current(const std::shared_ptr<Tcp::Peer>& peer) const {
  auto it = peers.find(peer->fd());
  return it != peers.end() && it->second == peer;
}

// Pistache's accept thread holds each new peer for a moment after handing it to the reactor; a
// client that connects, sends and vanishes within that moment would leave that thread the last
// owner, and the peer's data (our Connection, Pistache's parser) would be destroyed there while
// the reactor was the one writing it (ThreadSanitizer reported exactly that). Keeping departed
// peers until the next sweep makes the reactor the last owner.
void ServerTransport::on_disconnection(const std::shared_ptr<Tcp::Peer>& peer) {
  // The connection slot is free now, not at the sweep: a client reconnecting at a high rate must
  // not be refused for connections that are already gone.
  if (auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection))) {
    connection->ticket.reset();
  }
  departing_.push_back(peer);
}

void ServerTransport::check_timeouts() {
  departed_.clear();  // disconnected at least one sweep ago: the accept thread let go long since
  departed_.swap(departing_);
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Tcp::Peer>> late;
  std::vector<std::shared_ptr<Tcp::Peer>> idle;
  for (const auto& [fd, peer] : peers) {
    auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection));
    // A request being processed is answered by its handler, however long that takes.
    if (!connection || connection->in_flight) continue;
    const auto waited = now - connection->waiting_since;
    if (connection->closing || connection->writing) {
      // Closing, or a client that does not read its answer: let go after the keep-alive timeout.
      if (waited > options_.keepalive_timeout) idle.push_back(peer);
    } else if (!connection->received.empty() || !connection->served) {
      // Reading a request (or waiting for the first one): the header and body timeouts.
      const bool body = Http::Handler::getParser(peer)->step()->id() == Http::Private::BodyStep::Id;
      if (waited > (body ? options_.body_timeout : options_.header_timeout)) late.push_back(peer);
    } else if (waited > options_.keepalive_timeout) {
      idle.push_back(peer);
    }
  }
  for (const auto& peer : idle) close_now(peer);
  for (const auto& peer : late) {
    auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnection));
    reject(peer, *connection, 408, "request not received in time");
  }
}

}  // namespace wallet::http
