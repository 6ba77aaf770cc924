// ServerTransport's connections: the limit on open ones, the reactor's wiring (the reply queue
// and the timeout sweep), a connection's arrival and departure, and its timeouts (input:
// server_input.cpp; answers: server_answers.cpp).
#include "http/server_transport.hpp"

#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <vector>

#include "http/server_transport_internal.hpp"

namespace wallet::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;
using transport_internal::kConnection;

namespace {

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
