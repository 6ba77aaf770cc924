// ServerTransport's answers: replies drained from the reply queue on the reactor thread, written
// with a ResponseWriter made for each, and the next pipelined request parsed once one is written.
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/server_transport.hpp"
#include "http/server_transport_internal.hpp"

namespace wallet::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;
using transport_internal::kConnection;

namespace {

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

}  // namespace

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

}  // namespace wallet::http
