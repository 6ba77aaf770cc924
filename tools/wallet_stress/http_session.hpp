// HttpSession: one libcurl easy handle that a single worker thread reuses for every request, so
// the connection stays open (keep-alive) and connection setup does not dominate the measurement.
// Not thread-safe: one session per thread.
#pragma once

#include <string>

namespace wallet::stress {

struct HttpAnswer {
  int status = 0;  // 0: no HTTP answer (refused, reset, timed out)
  std::string body;
  bool replayed = false;  // the answer carried `Idempotent-Replayed: true`
  std::string error;      // libcurl's text when status == 0
  double seconds = 0;     // wall time of the request, as the client saw it
};

class HttpSession {
 public:
  HttpSession(std::string base_url, long timeout_ms);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  HttpAnswer get(const std::string& path);
  // POST of a JSON body; idempotency_key is sent as the Idempotency-Key header when not empty.
  HttpAnswer post(const std::string& path, const std::string& body,
                  const std::string& idempotency_key);
  // PATCH of a JSON body (PATCH /accounts/{id}); no idempotency key.
  HttpAnswer patch(const std::string& path, const std::string& body);

  // New TCP connections this session opened so far (1 when keep-alive held throughout).
  long connections_opened() const { return connections_; }

 private:
  HttpAnswer perform(const std::string& path, const std::string* body,
                     const std::string& idempotency_key, const char* method = nullptr);

  std::string base_url_;
  long timeout_ms_;
  void* curl_ = nullptr;  // CURL*, kept opaque so that this header does not pull in curl.h
  long connections_ = 0;
};

// Calls curl_global_init once; call before starting threads.
void init_http();

}  // namespace wallet::stress
