// Responder: answers one HTTP request exactly once, from any thread. Handlers hold it in a
// shared_ptr and pass it into their continuations; the first send wins, later ones are ignored,
// and a Responder dropped without an answer sends a 500 rather than leaving the client hanging.
// It also finishes the request's log line and metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pistache/http.h>

#include "domain/error.hpp"
#include "http/metrics.hpp"

namespace wallet::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class Responder {
 public:
  Responder(Pistache::Http::ResponseWriter writer, std::string request_id, std::string method,
            std::string route, Metrics* metrics);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  void send(int status, const std::string& body, const HeaderList& headers = {},
            const std::string& content_type = "application/json");
  void send_error(const domain::Error& error, const HeaderList& headers = {});

  const std::string& request_id() const { return request_id_; }
  void set_route(std::string route) { route_ = std::move(route); }

 private:
  Pistache::Http::ResponseWriter writer_;
  std::string request_id_;
  std::string method_;
  std::string route_;
  Metrics* metrics_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> sent_{false};
};

using ResponderPtr = std::shared_ptr<Responder>;

}  // namespace wallet::http
