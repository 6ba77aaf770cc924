// ServerTransport: Wallet's Pistache transport, one per reactor thread, in place of Pistache
// 0.0.5's Http::TransportImpl. It owns everything that touches a connection, and does it on the
// connection's reactor thread only:
//  - input: feeds Pistache's parser; one request per connection is in flight at a time, bytes
//    pipelined behind it wait (bounded) and are parsed once its answer is written, so answers
//    keep order and a client that does not read holds one answer in memory at most;
//  - answers: handlers answer from any thread through a Responder, which pushes a PendingReply into
//  this
//    transport's ReplyQueue; the reactor drains it and writes with a ResponseWriter it creates and
//    destroys itself (Pistache's writer and promises are not thread-safe: upstream 1290, 1297);
//  - timeouts: header and body timeouts apply to reading a request only. A request that is being
//    processed is never answered by the transport (its handler owns the answer, however long it
//    takes); an idle connection is closed after the keep-alive timeout.
#pragma once

#include <pistache/http.h>
#include <pistache/transport.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/metrics.hpp"
#include "http/reply_queue.hpp"
#include "http/responder.hpp"

namespace wallet::http {

// Counts the open connections of all reactor threads. A connection holds a ticket in its state;
// Pistache destroys the peer (and so the ticket) however the connection ends.
class ConnectionGate : public std::enable_shared_from_this<ConnectionGate> {
 public:
  explicit ConnectionGate(size_t limit) : limit_(limit) {}
  // A ticket for one more connection, or nullptr when `limit` are open.
  std::shared_ptr<void> admit();
  size_t open() const { return open_.load(); }

 private:
  struct Ticket;
  const size_t limit_;
  std::atomic<size_t> open_{0};
};

struct TransportOptions {
  std::chrono::milliseconds header_timeout{5'000};
  std::chrono::milliseconds body_timeout{10'000};
  std::chrono::milliseconds keepalive_timeout{15'000};
  size_t max_request = 80 * 1024;  // request line, headers and body; also bounds pipelined bytes
  size_t max_head = 80 * 1024;     // request line and headers
  size_t max_body = 64 * 1024;
  // The body limit by request path (a route may raise max_body); null: max_body everywhere.
  std::function<size_t(const std::string& path)> body_limit = nullptr;
};

// Called on the reactor thread for each complete request. Must not throw and must not block; it
// answers (now or later, from any thread) through a Responder built on `target`.
using RequestSink = std::function<void(const Pistache::Http::Request& request, ReplyTarget target,
                                       std::chrono::steady_clock::time_point received_at)>;

class ServerTransport : public Pistache::Tcp::Transport {
 public:
  ServerTransport(TransportOptions options, RequestSink sink, std::shared_ptr<ConnectionGate> gate,
                  Metrics* metrics);
  ~ServerTransport() override;

  std::shared_ptr<Pistache::Aio::Handler> clone() const override;
  void registerPoller(Pistache::Polling::Epoll& poller) override;
  void onReady(const Pistache::Aio::FdSet& fds) override;

  // From the transport's Http::Handler, on the reactor thread.
  void on_connection(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void on_input(const char* data, size_t size, const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void on_disconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

 private:
  struct Connection;
  class InputHandler;

  ServerTransport(std::shared_ptr<InputHandler> handler, TransportOptions options, RequestSink sink,
                  std::shared_ptr<ConnectionGate> gate, Metrics* metrics);

  void pump(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Connection& connection,
            std::string data);
  void reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Connection& connection, int status,
              const char* cause);
  void drain_replies();
  void write(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Connection& connection,
             const PendingReply& reply);
  void check_timeouts();
  void written(const std::weak_ptr<Pistache::Tcp::Peer>& peer);
  void close_now(const std::weak_ptr<Pistache::Tcp::Peer>& peer);
  bool is_current(const std::shared_ptr<Pistache::Tcp::Peer>& peer) const;

  std::shared_ptr<InputHandler> handler_;
  TransportOptions options_;
  RequestSink sink_;
  std::shared_ptr<ConnectionGate> gate_;
  Metrics* metrics_;
  std::shared_ptr<ReplyQueue> replies_;
  int timer_fd_ = -1;
  std::vector<std::shared_ptr<Pistache::Tcp::Peer>>
      departing_;                                               // disconnected since the last sweep
  std::vector<std::shared_ptr<Pistache::Tcp::Peer>> departed_;  // released at the next sweep
};

}  // namespace wallet::http
