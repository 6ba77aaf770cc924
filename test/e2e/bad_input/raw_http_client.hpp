// RawHttpConnection: a tiny blocking HTTP/1.1 client over a plain TCP socket, for requests curl
// will not send (NUL bytes, broken framing, thousands of headers, trickled bytes) and for holding
// many connections open. Header-only because the e2e CMake glob compiles only *_test.cpp files.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wallet::test {

struct RawResponse {
  int status = 0;                              // 0: no HTTP answer (closed, reset or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool closed = false;  // the server closed the connection
  std::string error;    // why status is 0
};

// "http://host:port" -> host, port (the only URL shape environment.hpp gives).
inline std::pair<std::string, int> host_port(const std::string& base_url) {
  std::string rest = base_url.substr(base_url.find("://") + 3);
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, 80};
  return {rest.substr(0, colon), std::atoi(rest.c_str() + colon + 1)};
}

class RawHttpConnection {
 public:
  explicit RawHttpConnection(const std::string& base_url) {
    const auto [host, port] = host_port(base_url);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &address.sin_addr);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) {
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      timeval send_timeout{10, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    }
  }
  ~RawHttpConnection() { close(); }
  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;
  RawHttpConnection(RawHttpConnection&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

  bool connected() const { return fd_ >= 0; }

  // Sends everything; false if the server reset or closed the connection first.
  bool send(std::string_view bytes) {
    while (!bytes.empty() && fd_ >= 0) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return fd_ >= 0;
  }

  // Reads one response: headers, then Content-Length bytes of body (or up to end-of-file when
  // there is no Content-Length). Pistache keeps connections open after answering, so the length
  // is what ends a response, not the close.
  RawResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    RawResponse response;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t header_end = std::string::npos;
    size_t content_length = std::string::npos;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = buffer_.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          parse_head(buffer_.substr(0, header_end), response);
          auto length = response.headers.find("content-length");
          if (length != response.headers.end()) content_length = std::stoul(length->second);
        }
      }
      if (header_end != std::string::npos && content_length != std::string::npos &&
          buffer_.size() >= header_end + 4 + content_length) {
        response.body = buffer_.substr(header_end + 4, content_length);
        buffer_.erase(0, header_end + 4 + content_length);
        return response;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        response.error = "timed out";
        break;
      }
      if (!receive(left, response)) break;
    }
    if (header_end == std::string::npos) {
      response.status = 0;
      if (response.error.empty()) response.error = "no complete response";
    } else {
      response.body = buffer_.substr(header_end + 4);
    }
    return response;
  }

  // True once the server has closed its side (reads end-of-file or reset) within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    RawResponse ignored;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!receive(left, ignored)) return ignored.closed;
    }
    return false;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  // Appends what arrives within `timeout`; false on end-of-file, error or timeout.
  bool receive(std::chrono::milliseconds timeout, RawResponse& response) {
    if (fd_ < 0) return false;
    pollfd poll_fd{fd_, POLLIN, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
      response.error = ready == 0 ? "timed out" : "poll failed";
      return false;
    }
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      response.closed = true;
      if (response.error.empty()) response.error = n == 0 ? "closed" : "reset";
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static void parse_head(const std::string& head, RawResponse& response) {
    const size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    const size_t space = status_line.find(' ');
    if (space != std::string::npos) response.status = std::atoi(status_line.c_str() + space + 1);
    size_t start = line_end == std::string::npos ? head.size() : line_end + 2;
    while (start < head.size()) {
      size_t end = head.find("\r\n", start);
      if (end == std::string::npos) end = head.size();
      const std::string line = head.substr(start, end - start);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t value = colon + 1;
        while (value < line.size() && line[value] == ' ') ++value;
        response.headers[name] = line.substr(value);
      }
      start = end + 2;
    }
  }

  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection.
inline RawResponse raw_exchange(const std::string& base_url, std::string_view request,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  RawHttpConnection connection(base_url);
  if (!connection.connected()) {
    RawResponse response;
    response.error = "connect failed";
    return response;
  }
  connection.send(request);  // a server that answers early (413) may reset the rest: read anyway
  return connection.read_response(timeout);
}

using RawHeaders = std::vector<std::pair<std::string, std::string>>;

// "METHOD target HTTP/1.1" with Host, the given headers, Content-Length (unless a header already
// frames the body) and the body, byte for byte.
inline std::string http_request(const std::string& method, const std::string& target,
                                const RawHeaders& headers = {}, const std::string& body = "",
                                bool content_length = true) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (content_length) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

}  // namespace wallet::test
