#include "http/responder.hpp"

#include <spdlog/spdlog.h>

namespace wallet::http {

using namespace Pistache;

namespace {

// Pistache 0.0.5 writes only typed headers into a response (raw ones are dropped), so extra
// headers such as X-Request-Id travel as this one generic typed header.
class NamedHeader : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_;
  std::string value_;
};

}  // namespace

Responder::Responder(Http::ResponseWriter writer, std::string request_id, std::string method,
                     std::string route, Metrics* metrics)
    : writer_(std::move(writer)),
      request_id_(std::move(request_id)),
      method_(std::move(method)),
      route_(std::move(route)),
      metrics_(metrics),
      started_(std::chrono::steady_clock::now()) {}

Responder::~Responder() {
  if (!sent_.load()) {
    spdlog::error("event=request_unanswered request_id={} method={} route={}", request_id_, method_,
                  route_);
    send_error({domain::ErrorCode::internal, "internal error"});
  }
}

void Responder::send_error(const domain::Error& error, const HeaderList& headers) {
  send(domain::http_status(error.code), domain::error_body(error), headers);
}

void Responder::send(int status, const std::string& body, const HeaderList& headers,
                     const std::string& content_type) {
  if (sent_.exchange(true)) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  try {
    writer_.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request_id_));
    for (const auto& [name, value] : headers) {
      writer_.headers().add(std::make_shared<NamedHeader>(name, value));
    }
    writer_.send(static_cast<Http::Code>(status), body, Http::Mime::MediaType::fromString(content_type))
        .then([](ssize_t) {}, Async::IgnoreException);
  } catch (const std::exception& e) {
    // The client went away before the answer: nothing to tell it, but say so in the log.
    spdlog::info("event=response_dropped request_id={} cause=\"{}\"", request_id_, e.what());
  }
  if (metrics_) {
    Labels labels{{"method", method_}, {"route", route_}, {"status", std::to_string(status)}};
    metrics_->count("http_requests_total", labels);
    metrics_->observe("http_request_duration_seconds", labels, seconds);
  }
  if (status >= 500) {
    spdlog::warn("event=request method={} route={} status={} ms={:.3f} request_id={}", method_,
                 route_, status, seconds * 1000, request_id_);
  } else {
    spdlog::debug("event=request method={} route={} status={} ms={:.3f} request_id={}", method_,
                  route_, status, seconds * 1000, request_id_);
  }
}

}  // namespace wallet::http
