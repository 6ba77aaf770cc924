#include "http/static_assets.hpp"

#include <spdlog/spdlog.h>

#include "http/embedded_assets.hpp"

namespace wallet::http {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Everything a page loads comes from this origin; scripts only from files (no inline script, no
// eval), no framing, no plugins, and fetch() only back to this service.
const HeaderList kStaticHeaders{
    {"Cache-Control", "no-store"},
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
     "frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};

}  // namespace

std::string content_type_for(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".json")) return "application/json";
  return "application/octet-stream";
}

void send_embedded_asset(const ResponderPtr& responder, std::string_view name) {
  auto body = find_embedded_asset(name);
  if (!body) {
    spdlog::error("event=embedded_asset_missing name={}", name);
    return responder->send_error({domain::ErrorCode::internal, "internal error"});
  }
  responder->send(200, std::string(*body), kStaticHeaders, content_type_for(name));
}

Handler serve_embedded_asset(std::string name) {
  return [name = std::move(name)](const HttpRequest&, ResponderPtr responder) {
    send_embedded_asset(responder, name);
  };
}

}  // namespace wallet::http
