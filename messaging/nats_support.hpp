// One NATS connection, configured the same way for every bridge: reconnect forever (250 ms apart),
// start even while the server is down (the first connect is retried in the background), fail
// pending requests at once on a disconnect, and log connection state changes.
#pragma once

#include <string>

#include <nats/nats.h>

namespace wallet::messaging {

class NatsConnection {
 public:
  // `name` is shown to the server and in logs; it must have static storage duration (the library
  // keeps the pointer for its callbacks). Never throws: a connection that could not even be set up
  // (a malformed URL) reports state "failed" and every use fails as unavailable.
  NatsConnection(const std::string& url, const char* name);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* get() const { return conn_; }
  bool connected() const;
  std::string state() const;  // connected, connecting, reconnecting, closed, failed, ...
  void close();               // idempotent; safe while other threads still hold get()

 private:
  const char* name_;
  natsOptions* options_ = nullptr;
  natsConnection* conn_ = nullptr;
};

}  // namespace wallet::messaging
