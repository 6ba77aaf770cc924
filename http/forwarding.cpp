#include "http/forwarding.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "domain/partitioning.hpp"

namespace wallet::http {
namespace {

// Names the instance a request came through; its presence means "do not forward again".
constexpr const char* kForwardedHeader = "x-wallet-forwarded-by";

std::string encode_answer(const PendingReply& reply) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : reply.headers) headers.push_back({name, value});
  return nlohmann::json{{"status", reply.status},
                        {"body", reply.body},
                        {"content_type", reply.content_type},
                        {"headers", std::move(headers)}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void relay_answer(const ResponderPtr& responder, const std::string& payload) {
  auto answer = nlohmann::json::parse(payload, nullptr, false);
  if (answer.is_discarded() || !answer.is_object() || !answer["status"].is_number_integer() ||
      !answer["body"].is_string()) {
    spdlog::error("event=forwarded_answer_invalid bytes={}", payload.size());
    return responder->send_error({domain::ErrorCode::internal, "internal error"});
  }
  HeaderList headers;
  if (answer.contains("headers") && answer["headers"].is_array()) {
    for (const auto& pair : answer["headers"]) {
      if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
        headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
      }
    }
  }
  responder->send(answer["status"].get<int>(), answer["body"].get<std::string>(), headers,
                  answer.value("content_type", std::string("application/json")));
}

}  // namespace

std::string encode_forwarded(const HttpRequest& request, const std::string& via) {
  auto headers = nlohmann::json(request.headers);
  headers[kForwardedHeader] = via;
  return nlohmann::json{{"method", request.method},
                        {"path", request.path},
                        {"query", request.query},
                        {"headers", std::move(headers)},
                        {"body", request.body}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<HttpRequest> decode_forwarded(const std::string& payload) {
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  try {
    HttpRequest request;
    request.method = doc.at("method").get<std::string>();
    request.path = doc.at("path").get<std::string>();
    request.body = doc.at("body").get<std::string>();
    request.query = doc.at("query").get<std::map<std::string, std::string>>();
    request.headers = doc.at("headers").get<std::map<std::string, std::string>>();
    return request;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::optional<std::pair<int, std::string>> decode_answer(const std::string& payload) {
  auto answer = nlohmann::json::parse(payload, nullptr, false);
  if (answer.is_discarded() || !answer.is_object() || !answer["status"].is_number_integer() ||
      !answer["body"].is_string()) {
    return std::nullopt;
  }
  return std::make_pair(answer["status"].get<int>(), answer["body"].get<std::string>());
}

OwnerRouting::OwnerRouting(std::shared_ptr<const actors::OwnedPartitions> owned, SendToOwner send,
                           Metrics* metrics, std::chrono::milliseconds answer_within)
    : owned_(std::move(owned)),
      send_(std::move(send)),
      metrics_(metrics),
      answer_within_(answer_within) {}

bool OwnerRouting::elsewhere(const std::string& user_id, const HttpRequest& request,
                             const ResponderPtr& responder) const {
  const int partition = domain::partition_of(user_id, owned_->partitions());
  if (owned_->owns_partition(partition)) return false;
  if (request.header(kForwardedHeader)) {
    responder->send_error({domain::ErrorCode::partition_moved,
                           "the account's partition moved while the request was on its way; "
                           "nothing changed, retry"});
    return true;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - request.received_at);
  if (waited >= answer_within_) {
    // Its time is up before it left: nothing was sent, so nothing can happen.
    responder->send_error({domain::ErrorCode::timeout,
                           "the request's deadline passed before it could be executed; nothing "
                           "changed, retry"});
    return true;
  }
  const auto within = answer_within_ - waited;
  send_(
      partition, encode_forwarded(request, owned_->instance_id()),
      [responder](domain::Result<std::string> answer) {
        if (answer) return relay_answer(responder, answer.value());
        if (answer.error().code == domain::ErrorCode::upstream_timeout) {
          return responder->send_error(
              {domain::ErrorCode::upstream_timeout,
               "the instance that owns this account did not answer (in time, or the connection "
               "failed); the operation may still complete: retry with the same Idempotency-Key "
               "to learn its outcome"});
        }
        responder->send_error(
            {domain::ErrorCode::partition_moved,
             "no instance serves this account's partition right now (it is moving, or the "
             "owner is unreachable); retry: with the same Idempotency-Key a retry returns the "
             "outcome if the operation did happen"});
      },
      within);
  return true;
}

void OwnerRouting::serve(const Router& router, const std::string& payload,
                         std::function<void(std::string)> reply) const {
  auto request = decode_forwarded(payload);
  if (!request) {
    PendingReply bad;
    bad.status = 400;
    bad.body = domain::error_body({domain::ErrorCode::bad_request, "malformed forwarded request"});
    return reply(encode_answer(bad));
  }
  const Route* route = nullptr;
  const auto match = router.match(*request, &route);
  ReplyTarget target;
  target.sink = [reply = std::move(reply)](PendingReply answer) { reply(encode_answer(answer)); };
  auto responder = std::make_shared<Responder>(
      std::move(target), request->header("x-request-id").value_or("forwarded"), request->method,
      route ? route->pattern : request->path, metrics_, request->received_at);
  switch (match) {
    case Router::Match::found:
      route->handler(*request, std::move(responder));
      return;
    case Router::Match::wrong_method:
      return responder->send_error({domain::ErrorCode::method_not_allowed, "method not allowed"});
    case Router::Match::not_found:
      return responder->send_error({domain::ErrorCode::not_found, "no such route"});
  }
}

}  // namespace wallet::http
