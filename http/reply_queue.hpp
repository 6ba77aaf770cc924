// ReplyQueue: how an answer computed on any thread (a CAF worker, a DB pool thread) reaches the
// connection's reactor thread. Pistache 0.0.5's ResponseWriter, its promises and its Peer are not
// thread-safe (upstream issues 1290 and 1297: a writer sent or destroyed off its reactor races
// the reactor resolving the write, and can crash it), so nothing but the reactor ever touches
// them: a worker pushes a PendingReply (plain data) here, the eventfd wakes the reactor, and the
// reactor writes it with a ResponseWriter it creates and destroys itself.
#pragma once

#include <pistache/http_defs.h>
#include <pistache/peer.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wallet::http {

struct PendingReply {
  std::weak_ptr<Pistache::Tcp::Peer> peer;  // only locked on the reactor
  int status = 500;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string request_id;
  bool close = false;  // answer with Connection: close and close after writing
};

class ReplyQueue {
 public:
  ReplyQueue();
  ~ReplyQueue();
  ReplyQueue(const ReplyQueue&) = delete;
  ReplyQueue& operator=(const ReplyQueue&) = delete;

  // Any thread. False when the reactor is gone (the server stopped): the reply is dropped.
  bool push(PendingReply reply);
  // Reactor thread: everything pushed so far, and clears the wake-up.
  std::deque<PendingReply> take();
  // Called when the reactor stops draining; later pushes are refused.
  void close();
  int fd() const { return event_fd_; }

 private:
  int event_fd_ = -1;
  std::mutex mutex_;
  std::deque<PendingReply> replies_;
  bool closed_ = false;
};

}  // namespace wallet::http
