// Responder: answers one HTTP request exactly once, from any thread. Handlers hold it in a
// shared_ptr and pass it into their continuations; the first send wins, later ones are ignored,
// and a Responder dropped without an answer sends a 500 rather than leaving the client hanging.
// It also finishes the request's log line and metrics.
//
// Thread safety: a Responder never touches Pistache. send() turns the answer into a PendingReply
// and hands it to the connection's reactor through its ReplyQueue (see reply_queue.hpp), so sending
// and destroying a Responder is safe on any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.hpp"
#include "http/metrics.hpp"
#include "http/reply_queue.hpp"

namespace wallet::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Where a Responder's answer goes: the reactor's queue and the connection it belongs to.
struct ReplyTarget {
  std::shared_ptr<ReplyQueue> queue;
  std::weak_ptr<Pistache::Tcp::Peer> peer;
  bool close = false;  // the client asked for Connection: close (or spoke HTTP/1.0 without it)
  // Beyond one machine: a request forwarded by another instance is answered through this (set,
  // the queue and peer are unused).
  std::function<void(PendingReply)> sink = nullptr;
};

class Responder {
 public:
  Responder(ReplyTarget target, std::string request_id, std::string method, std::string route,
            Metrics* metrics,
            std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  void send(int status, const std::string& body, const HeaderList& headers = {},
            const std::string& content_type = "application/json");
  void send_error(const domain::Error& error, const HeaderList& headers = {});

  const std::string& request_id() const { return request_id_; }
  void set_route(std::string route) { route_ = std::move(route); }
  // Headers every answer carries besides its own (the RateLimit ones of an admitted request).
  // Before the request is handed to its handler only: send() reads them on any thread.
  void add_headers(HeaderList headers) { extra_headers_ = std::move(headers); }

 private:
  ReplyTarget target_;
  std::string request_id_;
  std::string method_;
  std::string route_;
  Metrics* metrics_;
  HeaderList extra_headers_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> sent_{false};
};

using ResponderPtr = std::shared_ptr<Responder>;

}  // namespace wallet::http
