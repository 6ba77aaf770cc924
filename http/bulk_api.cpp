#include "http/bulk_api.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "domain/bulk_request.hpp"
#include "http/common.hpp"
#include "http/transaction_routes.hpp"
#include "http/transactions_api.hpp"

namespace wallet::http {
namespace {

// The answers of one bulk's operations as they arrive (from any thread); the last one in sends
// the bulk's answer.
class BulkAnswers {
 public:
  BulkAnswers(size_t operations, ResponderPtr responder)
      : replies_(operations), remaining_(operations), responder_(std::move(responder)) {}

  void arrived(size_t index, PendingReply reply) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      replies_[index] = std::move(reply);
    }
    if (remaining_.fetch_sub(1) == 1) finish();
  }

 private:
  void finish() {
    std::string body = R"({"results":[)";
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < replies_.size(); ++i) {
      const auto& reply = replies_[i];
      bool replayed = false;
      for (const auto& [name, value] : reply.headers) {
        if (name == "Idempotent-Replayed" && value == "true") replayed = true;
      }
      body += i ? "," : "";
      body += R"({"status":)" + std::to_string(reply.status) + R"(,"replayed":)" +
              (replayed ? "true" : "false") + R"(,"body":)";
      // Every answer of these endpoints is JSON: its bytes go in as they are, so an operation's
      // body is byte-identical to what its own endpoint answers (and to its replays).
      const bool json = reply.content_type.rfind("application/json", 0) == 0 && !reply.body.empty();
      body += json ? reply.body : nlohmann::json(reply.body).dump();
      body += "}";
    }
    body += "]}";
    responder_->send(200, body);
  }

  std::mutex mutex_;
  std::vector<PendingReply> replies_;
  std::atomic<size_t> remaining_;
  ResponderPtr responder_;
};

// What an operation's request carries over from the bulk: who is asking.
HttpRequest operation_request(const HttpRequest& bulk, const domain::BulkOperation& op,
                              const std::string& request_id) {
  HttpRequest request;
  request.method = "POST";
  request.path = op.path;
  request.body = op.body;
  request.received_at = bulk.received_at;  // the bulk's deadline is each operation's
  request.headers["content-type"] = "application/json";
  request.headers["idempotency-key"] = op.idempotency_key;
  request.headers["x-request-id"] = request_id;
  for (const char* name : {"authorization", "x-api-key"}) {
    if (auto value = bulk.header(name)) request.headers[name] = *value;
  }
  return request;
}

void run_operation(const Router& operations, HttpRequest request,
                   const std::shared_ptr<BulkAnswers>& answers, size_t index, Metrics* metrics) {
  ReplyTarget target;
  target.sink = [answers, index](PendingReply reply) { answers->arrived(index, std::move(reply)); };
  const Route* route = nullptr;
  const auto match = operations.match(request, &route);
  // Counted under a route of its own: a bulk's operations do not blend into the single
  // requests' latency (which the alerts read).
  auto responder = std::make_shared<Responder>(
      std::move(target), request.headers["x-request-id"], request.method,
      "bulk:" + (route ? route->pattern : request.path), metrics, request.received_at);
  if (match != Router::Match::found) {
    // decode_bulk only builds paths of these routes: a miss is ours.
    spdlog::error("event=bulk_route_missing path={}", request.path);
    return responder->send_error({domain::ErrorCode::internal, "internal error"});
  }
  try {
    route->handler(request, responder);
  } catch (const std::exception& e) {
    spdlog::error("event=handler_exception request_id={} cause=\"{}\"", responder->request_id(),
                  e.what());
    responder->send_error({domain::ErrorCode::internal, "internal error"});
  }
}

}  // namespace

void add_bulk_route(Router& router, const TransactionApiDeps& deps) {
  // The endpoints a bulk's operations run through: the same handlers clients reach one by one.
  auto operations = std::make_shared<Router>();
  add_money_routes(*operations, deps);
  add_hold_routes(*operations, deps.ledger, deps.routing);
  add_transactions_routes(*operations, deps);
  router.add(
      "POST", "/transactions/bulk",
      [operations, metrics = deps.metrics](const HttpRequest& request, ResponderPtr responder) {
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_bulk(request.body);
        if (!decoded) return responder->send_error(decoded.error());
        const std::string bulk_id = responder->request_id();
        auto answers = std::make_shared<BulkAnswers>(decoded->size(), std::move(responder));
        for (size_t i = 0; i < decoded->size(); ++i) {
          run_operation(
              *operations,
              operation_request(request, (*decoded)[i], bulk_id + "." + std::to_string(i)), answers,
              i, metrics);
        }
      },
      domain::kMaxBulkBodyBytes);
}

}  // namespace wallet::http
