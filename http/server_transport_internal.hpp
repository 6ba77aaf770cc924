// Private to ServerTransport's files (http/server_transport.cpp, server_input.cpp,
// server_answers.cpp): a connection's state in its peer's data and the handler Pistache calls.
// Nothing outside them includes it.
#pragma once

#include <pistache/http.h>
#include <pistache/peer.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/server_transport.hpp"

namespace wallet::http {
namespace transport_internal {

// Peer data key of ours, next to Pistache's own "__Parser".
inline constexpr const char* kConnection = "wallet.connection";

}  // namespace transport_internal

// Per connection, in the peer's data; read and written on its reactor thread only.
struct ServerTransport::Connection {
  std::shared_ptr<void> ticket;
  std::string received;    // bytes of the request being parsed (fed to Pistache's parser)
  std::string pipelined;   // bytes that arrived while a request was in flight
  bool in_flight = false;  // a request was handed to a handler and is not answered yet
  bool writing = false;    // its answer was handed to Pistache and is not fully written yet
  bool closing = false;    // answered with Connection: close; further input is ignored
  bool served = false;     // at least one request was answered on this connection
  std::chrono::steady_clock::time_point waiting_since =
      std::chrono::steady_clock::now();                 // connection start, or the last answer
  std::chrono::steady_clock::time_point request_since;  // first byte of the request being parsed
  Pistache::Http::Version version = Pistache::Http::Version::Http11;
};

// Pistache calls a Tcp::Handler for input; this one hands everything to its transport.
class ServerTransport::InputHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(InputHandler)

  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    owner()->on_connection(peer);
  }
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    owner()->on_input(buffer, len, peer);
  }
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    owner()->on_disconnection(peer);
  }
  // Never called: requests are dispatched by the transport, not by Http::Handler::onInput.
  void onRequest(const Pistache::Http::Request&, Pistache::Http::ResponseWriter) override {}

 private:
  ServerTransport* owner() { return static_cast<ServerTransport*>(transport()); }
};

}  // namespace wallet::http
