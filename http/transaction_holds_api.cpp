#include "http/transaction_holds_api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "http/account_api.hpp"
#include "http/common.hpp"

namespace wallet::http {
namespace {

constexpr const char* kPlacePath = "/admin/transaction-holds";

std::optional<int64_t> positive_minor_units(const std::string& text) {
  int64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value <= 0) return std::nullopt;
  return value;
}

// The placement a coordinator sent; nullopt (and 400 answered) when it is not one.
std::optional<actors::HoldCommand> placement_of(const HttpRequest& request,
                                                const ResponderPtr& responder) {
  auto doc = nlohmann::json::parse(request.body, nullptr, false);
  auto text = [&doc](const char* name) -> std::optional<std::string> {
    if (!doc.is_object() || !doc.contains(name) || !doc[name].is_string()) return std::nullopt;
    return doc[name].get<std::string>();
  };
  auto hold_id = text("hold_id");
  auto payer = text("payer");
  auto payee = text("payee");
  auto amount = text("amount");
  auto currency = text("currency");
  auto transaction_id = text("transaction_id");
  // Read as int64 first: a larger number would wrap when read as int.
  const bool posting_ok = doc.is_object() && doc.contains("posting") &&
                          doc["posting"].is_number_integer() &&
                          doc["posting"].get<int64_t>() >= 0 && doc["posting"].get<int64_t>() < 32;
  std::optional<int64_t> minor = amount ? positive_minor_units(*amount) : std::nullopt;
  auto id = [](const std::optional<std::string>& v) {
    return v ? domain::normalize_uuid(*v) : std::nullopt;
  };
  if (!id(hold_id) || !id(payer) || !id(payee) || !id(transaction_id) || !minor || !currency ||
      !posting_ok || *id(payer) == *id(payee)) {
    responder->send_error({domain::ErrorCode::invalid_json,
                           "a hold of a transaction needs hold_id, payer, payee, transaction_id "
                           "(UUIDs), amount (minor units), currency and posting (0..31)"});
    return std::nullopt;
  }
  actors::HoldCommand command;
  command.hold_id = *id(hold_id);
  command.from_user_id = *id(payer);
  command.to_user_id = *id(payee);
  command.amount = *minor;
  command.currency = *currency;
  command.transaction_id = *id(transaction_id);
  command.posting = doc["posting"].get<int>();
  command.account_form = true;
  return command;
}

HttpRequest internal_request(const std::string& path, std::string body,
                             const std::string& admin_token) {
  HttpRequest request;
  request.method = "POST";
  request.path = path;
  request.body = std::move(body);
  request.headers["content-type"] = "application/json";
  request.headers["authorization"] = "Bearer " + admin_token;
  return request;
}

}  // namespace

void add_transaction_hold_routes(Router& router, const TransactionApiDeps& deps) {
  auto& ledger = deps.ledger;
  auto token = deps.admin_token;
  auto routing = deps.routing;
  auto authorized = [token](const HttpRequest& request, const ResponderPtr& responder) {
    if (!token.empty() && bearer_matches(request, token)) return true;
    responder->send_error(
        {domain::ErrorCode::unauthorized, "a valid admin bearer token is required"},
        {{"WWW-Authenticate", "Bearer"}});
    return false;
  };
  router.add("POST", kPlacePath,
             [&ledger, authorized, routing](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               if (!require_json(request, responder)) return;
               auto command = placement_of(request, responder);
               if (!command) return;
               if (routing && routing->elsewhere(command->from_user_id, request, responder)) return;
               command->reply = answer_with(std::move(responder));
               ledger.create_hold(std::move(*command));
             });
  router.add("POST", "/admin/transaction-holds/{hold_id}/settle",
             [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               auto hold_id = domain::normalize_uuid(request.params.at("hold_id"));
               if (!hold_id) {
                 return responder->send_error(
                     {domain::ErrorCode::invalid_hold_id, "hold_id must be a UUID"});
               }
               ledger.settle_transaction_hold(*hold_id, false, [responder](bool settled) {
                 responder->send(200, nlohmann::json{{"settled", settled}}.dump());
               });
             });
}

actors::RemoteHolds remote_holds_over(SendToOwner send,
                                      std::shared_ptr<const actors::OwnedPartitions> owned,
                                      std::string admin_token) {
  actors::RemoteHolds remote;
  remote.place = [send, owned, admin_token](actors::HoldPlacement hold,
                                            std::chrono::milliseconds within,
                                            std::function<void(actors::Reply)> done) {
    nlohmann::json body{{"hold_id", hold.hold_id},   {"payer", hold.payer},
                        {"payee", hold.payee},       {"amount", std::to_string(hold.amount)},
                        {"currency", hold.currency}, {"transaction_id", hold.transaction_id},
                        {"posting", hold.posting}};
    const int partition = domain::partition_of(hold.payer, owned->partitions());
    auto request = internal_request(kPlacePath, body.dump(), admin_token);
    send(
        partition, encode_forwarded(request, owned->instance_id()),
        [done = std::move(done)](domain::Result<std::string> answer) {
          if (!answer) {
            // Unknown: the hold may stand; the coordinator aborts, its owner voids it.
            return done(actors::Reply{domain::Refused{answer.error()}});
          }
          auto decoded = decode_answer(answer.value());
          if (!decoded) {
            return done(actors::error_reply(domain::ErrorCode::upstream_timeout,
                                            "the owner's answer could not be read"));
          }
          done(actors::Reply{domain::Encoded{decoded->first, decoded->second}});
        },
        within);
  };
  remote.settle = [send, owned, admin_token](const std::string& payer, const std::string& hold_id) {
    const int partition = domain::partition_of(payer, owned->partitions());
    auto request = internal_request(std::string(kPlacePath) + "/" + hold_id + "/settle",
                                    nlohmann::json{{"payer", payer}}.dump(), admin_token);
    send(
        partition, encode_forwarded(request, owned->instance_id()),
        [hold_id](domain::Result<std::string> answer) {
          // Nothing waits for it: the owner's resolver settles the hold anyway.
          if (!answer) {
            spdlog::info("event=transaction_hold_settle_unsent hold_id={} cause={}", hold_id,
                         answer.error().message);
          }
        },
        std::chrono::milliseconds{5'000});
  };
  return remote;
}

}  // namespace wallet::http
