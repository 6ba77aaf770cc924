// A small blocking HTTP client (libcurl) for the integration and e2e tests and the tools: one
// request per call, JSON bodies as text, headers lower-cased. Safe to use from several threads
// (each call has its own curl handle).
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace wallet::test {

struct HttpResponse {
  int status = 0;  // 0 when no HTTP answer arrived (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // curl's text when status == 0
  double seconds = 0;

  // The body as JSON; a discarded value when it is not JSON.
  nlohmann::json json() const;
  // {"error": {"code": ...}} of the contract, or empty.
  std::string error_code() const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(std::string base_url,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

  HttpResponse get(const std::string& path, const HttpHeaders& headers = {}) const;
  // GET with a JSON body (user-service's getBalance accepts one).
  HttpResponse get_with_body(const std::string& path, const std::string& body,
                             const HttpHeaders& headers = {}) const;
  HttpResponse post(const std::string& path, const std::string& body,
                    const HttpHeaders& headers = {}) const;
  HttpResponse request(const std::string& method, const std::string& path, const std::string* body,
                       const HttpHeaders& headers = {}) const;

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  std::chrono::milliseconds timeout_;
};

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& text);

}  // namespace wallet::test
