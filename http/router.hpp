// Router: maps method and path to a handler, with `{name}` path parameters; an unknown path is
// 404 not_found, a known path with another method 405. Also the one place a request is copied out
// of Pistache into a plain HttpRequest that continuations may keep.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/responder.hpp"

namespace wallet::http {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::map<std::string, std::string> query;    // percent-decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> params;   // from the route pattern
  // When the server started waiting for this request (its connection opened, or the previous
  // answer on it was written): deadlines for answering count from here. Pistache never answers a
  // request on its own once it is read, so a handler's deadline is the only one.
  std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();

  std::optional<std::string> header(const std::string& lower_name) const;
  std::optional<std::string> query_value(const std::string& name) const;
};

using Handler = std::function<void(const HttpRequest&, ResponderPtr)>;

struct Route {
  std::string method;
  std::string pattern;  // e.g. /users/{user_id}/balance
  Handler handler;
  size_t max_body = 0;   // bytes; 0: the server's max_body (64 KiB)
  bool literal = false;  // no {parameter}: matches its own path only, compared as a string
};

class Router {
 public:
  // `max_body`: a larger body limit for this route only (POST /transactions/bulk); 0: the
  // server's. Only literal patterns may raise it (the transport checks a declared length by path).
  void add(std::string method, std::string pattern, Handler handler, size_t max_body = 0);
  // The body limit of a request to `path`, before routing: the raised limit of a literal route
  // with this path, else `standard`.
  size_t body_limit(const std::string& path, size_t standard) const;

  // Finds the route; fills `route` with the matching pattern (for logs and metrics) or an error.
  enum class Match { found, not_found, wrong_method };
  Match match(HttpRequest& request, const Route** route) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace wallet::http
