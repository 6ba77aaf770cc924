// One NATS connection, configured the same way for every bridge: reconnect forever (250 ms apart),
// start even while the server is down (the first connect is retried in the background), fail
// pending requests at once on a disconnect, and log connection state changes.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

namespace wallet::messaging {

class NatsConnection {
 public:
  // `name` is shown to the server and in logs. Never throws: a connection that could not even be
  // set up (a malformed URL) reports state "failed" and every use fails as unavailable.
  NatsConnection(const std::string& url, std::string name);
  // Closes and waits (bounded) for the library's last callback about this connection: cnats runs
  // them on its own threads, which must not outlive the object (or the process's loggers).
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* get() const { return conn_; }
  const std::string& name() const { return name_; }
  bool connected() const;
  std::string state() const;  // connected, connecting, reconnecting, closed, failed, ...
  void close();               // idempotent; safe while other threads still hold get()

 private:
  static void on_connected(natsConnection*, void* closure);
  static void on_disconnected(natsConnection*, void* closure);
  static void on_reconnected(natsConnection*, void* closure);
  static void on_closed(natsConnection*, void* closure);
  static void on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure);

  const std::string name_;
  natsOptions* options_ = nullptr;
  natsConnection* conn_ = nullptr;
  std::mutex mutex_;
  std::condition_variable closed_cv_;
  bool closed_ = false;  // the closed callback ran
};

// Publishes the replies of a responder. Answers come later, from actor or pool threads, and may
// arrive after the responder stopped: they hold this by shared_ptr, and once close() has run they
// are dropped (the requester times out, as it would if we had crashed). Thread-safe.
class ReplyPublisher {
 public:
  void open(natsConnection* conn);
  void close();
  // True when published; false when closed or the publish failed (counted and logged).
  bool publish(const std::string& subject, const std::string& body);
  uint64_t failures() const { return failures_.load(); }

 private:
  std::mutex mutex_;
  natsConnection* conn_ = nullptr;  // null until opened and once closed
  std::atomic<uint64_t> failures_{0};
};

}  // namespace wallet::messaging
