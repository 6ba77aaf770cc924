// HttpSession: keep-alive HTTP/1.1 over one reused libcurl easy handle.
#include "tools/wallet_stress/http_session.hpp"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <mutex>

namespace wallet::stress {
namespace {

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Only one header matters to the driver: the replay marker.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  const size_t length = size * count;
  static constexpr char kName[] = "idempotent-replayed:";
  constexpr size_t kNameLength = sizeof(kName) - 1;
  if (length > kNameLength) {
    bool match = true;
    for (size_t i = 0; i < kNameLength && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(data[i])) == kName[i];
    }
    if (match) {
      std::string value(data + kNameLength, length - kNameLength);
      *static_cast<bool*>(user) = value.find("true") != std::string::npos;
    }
  }
  return length;
}

}  // namespace

void init_http() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpSession::HttpSession(std::string base_url, long timeout_ms)
    : base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  init_http();
  curl_ = curl_easy_init();
}

HttpSession::~HttpSession() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpAnswer HttpSession::get(const std::string& path) { return perform(path, nullptr, ""); }

HttpAnswer HttpSession::post(const std::string& path, const std::string& body,
                             const std::string& idempotency_key) {
  return perform(path, &body, idempotency_key);
}

HttpAnswer HttpSession::patch(const std::string& path, const std::string& body) {
  return perform(path, &body, "", "PATCH");
}

HttpAnswer HttpSession::perform(const std::string& path, const std::string* body,
                                const std::string& idempotency_key, const char* method) {
  HttpAnswer answer;
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) {
    answer.error = "curl_easy_init failed";
    return answer;
  }
  // Options are set afresh on every call (a reused handle keeps old ones), but the handle and
  // with it the connection cache survive between calls.
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Expect:");
  // HTTP/1.1 is persistent by default, but the Pistache release we build on answers
  // `Connection: Close` unless the request asks for keep-alive explicitly.
  headers = curl_slist_append(headers, "Connection: keep-alive");
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  if (!idempotency_key.empty()) {
    headers = curl_slist_append(headers, ("Idempotency-Key: " + idempotency_key).c_str());
  }
  const std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.replayed);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    if (method) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(curl);
  answer.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    answer.status = static_cast<int>(status);
  } else {
    answer.error = curl_easy_strerror(code);
    answer.body.clear();
    answer.replayed = false;
  }
  long opened = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &opened);
  connections_ += opened;
  curl_slist_free_all(headers);
  return answer;
}

}  // namespace wallet::stress
