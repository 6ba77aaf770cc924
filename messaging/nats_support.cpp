#include "messaging/nats_support.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace wallet::messaging {
namespace {

const std::string& name_of(void* closure) { return static_cast<NatsConnection*>(closure)->name(); }

// NATS_URL may list several servers of one cluster, comma-separated ("nats://a:1,nats://b:2"):
// the client connects to one of them and reconnects to another when that one goes away.
std::vector<std::string> split_servers(const std::string& url) {
  std::vector<std::string> servers;
  size_t start = 0;
  while (start <= url.size()) {
    size_t end = url.find(',', start);
    if (end == std::string::npos) end = url.size();
    std::string item = url.substr(start, end - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) servers.push_back(item.substr(first, last - first + 1));
    start = end + 1;
  }
  return servers;
}

}  // namespace

void NatsConnection::on_connected(natsConnection*, void* closure) {
  spdlog::info("event=nats_connected client={}", name_of(closure));
}
void NatsConnection::on_disconnected(natsConnection*, void* closure) {
  spdlog::warn("event=nats_disconnected client={}", name_of(closure));
}
void NatsConnection::on_reconnected(natsConnection*, void* closure) {
  spdlog::info("event=nats_reconnected client={}", name_of(closure));
}
void NatsConnection::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsConnection*>(closure);
  spdlog::info("event=nats_closed client={}", self->name_);
  std::lock_guard<std::mutex> lock(self->mutex_);
  self->closed_ = true;
  self->closed_cv_.notify_all();
}
void NatsConnection::on_error(natsConnection*, natsSubscription*, natsStatus status,
                              void* closure) {
  // Asynchronous errors, e.g. a slow consumer dropping messages of a subscription.
  spdlog::warn("event=nats_async_error client={} cause=\"{}\"", name_of(closure),
               natsStatus_GetText(status));
}

NatsConnection::NatsConnection(const std::string& url, std::string name) : name_(std::move(name)) {
  void* closure = this;
  natsStatus s = natsOptions_Create(&options_);
  const std::vector<std::string> servers = split_servers(url);
  std::vector<const char*> server_ptrs;
  for (const auto& server : servers) server_ptrs.push_back(server.c_str());
  if (s == NATS_OK && server_ptrs.size() > 1) {
    s = natsOptions_SetServers(options_, server_ptrs.data(), static_cast<int>(server_ptrs.size()));
  } else if (s == NATS_OK) {
    s = natsOptions_SetURL(options_, url.c_str());
  }
  if (s == NATS_OK) s = natsOptions_SetName(options_, name_.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(options_, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(options_, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(options_, 2000);
  // A server that vanished without closing the socket is noticed after two missed pings.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(options_, 5000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(options_, 2);
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(options_, true);
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(options_, true, on_connected, closure);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(options_, on_disconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(options_, on_reconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(options_, on_closed, closure);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(options_, on_error, closure);
  if (s == NATS_OK) s = natsConnection_Connect(&conn_, options_);
  if (s == NATS_OK) {
    spdlog::info("event=nats_connected client={} url={}", name_, url);
  } else if (s == NATS_NOT_YET_CONNECTED) {
    spdlog::warn("event=nats_not_yet_connected client={} url={} retrying=forever", name_, url);
  } else {
    spdlog::error("event=nats_setup_failed client={} url={} cause=\"{}\"", name_, url,
                  natsStatus_GetText(s));
    conn_ = nullptr;
  }
}

NatsConnection::~NatsConnection() {
  close();
  if (conn_) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!closed_cv_.wait_for(lock, std::chrono::seconds(2), [this] { return closed_; })) {
      spdlog::warn("event=nats_close_timeout client={}", name_);
    }
    lock.unlock();
    natsConnection_Destroy(conn_);
  }
  if (options_) natsOptions_Destroy(options_);
}

void NatsConnection::close() {
  if (conn_ && !natsConnection_IsClosed(conn_)) natsConnection_Close(conn_);
}

bool NatsConnection::connected() const {
  return conn_ && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

std::string NatsConnection::state() const {
  if (!conn_) return "failed";
  switch (natsConnection_Status(conn_)) {
    case NATS_CONN_STATUS_DISCONNECTED:
      return "disconnected";
    case NATS_CONN_STATUS_CONNECTING:
      return "connecting";
    case NATS_CONN_STATUS_CONNECTED:
      return "connected";
    case NATS_CONN_STATUS_CLOSED:
      return "closed";
    case NATS_CONN_STATUS_RECONNECTING:
      return "reconnecting";
    case NATS_CONN_STATUS_DRAINING_SUBS:
    case NATS_CONN_STATUS_DRAINING_PUBS:
      return "draining";
  }
  return "unknown";
}

void ReplyPublisher::open(natsConnection* conn) {
  std::lock_guard<std::mutex> lock(mutex_);
  conn_ = conn;
}

void ReplyPublisher::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  conn_ = nullptr;
}

bool ReplyPublisher::publish(const std::string& subject, const std::string& body) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!conn_) return false;
  const natsStatus s =
      natsConnection_Publish(conn_, subject.c_str(), body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK) return true;
  ++failures_;
  spdlog::warn("event=nats_reply_failed subject={} cause=\"{}\"", subject, natsStatus_GetText(s));
  return false;
}

}  // namespace wallet::messaging
