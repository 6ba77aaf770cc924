#include "http/responder.hpp"

#include <spdlog/spdlog.h>

namespace wallet::http {

Responder::Responder(ReplyTarget target, std::string request_id, std::string method,
                     std::string route, Metrics* metrics,
                     std::chrono::steady_clock::time_point started)
    : target_(std::move(target)),
      request_id_(std::move(request_id)),
      method_(std::move(method)),
      route_(std::move(route)),
      metrics_(metrics),
      started_(started) {}

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
  PendingReply reply;
  reply.peer = target_.peer;
  reply.status = status;
  reply.body = body;
  reply.content_type = content_type;
  reply.headers = headers;
  reply.headers.insert(reply.headers.end(), extra_headers_.begin(), extra_headers_.end());
  reply.request_id = request_id_;
  reply.close = target_.close;
  for (const auto& [name, value] : headers) {
    if (name == "Connection" && value == "close") reply.close = true;
  }
  if (target_.sink) {
    target_.sink(std::move(reply));
  } else if (!target_.queue || !target_.queue->push(std::move(reply))) {
    spdlog::info("event=response_dropped request_id={} cause=\"server stopped\"", request_id_);
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
