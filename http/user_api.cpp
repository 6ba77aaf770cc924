#include "http/user_api.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "domain/email.hpp"
#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"
#include "http/common.hpp"
#include "messaging/contract.hpp"
#include "persistence/user_store.hpp"

namespace wallet::http {
namespace {

using domain::Error;
using domain::ErrorCode;
using persistence::UserRecord;
using MaybeUser = std::optional<UserRecord>;

std::string user_json(const UserRecord& user) {
  return nlohmann::json{
      {"user_id", user.user_id}, {"email", user.email}, {"created_at", user.created_at}}
      .dump();
}

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The `email` string field of a JSON body, or the error to answer.
domain::Result<std::string> email_field(const std::string& body) {
  auto object = domain::parse_flat_object(body);
  if (!object) return object.error();
  const auto* field = domain::find(*object, "email");
  if (!field || field->kind != domain::JsonScalar::Kind::string) {
    return Error{ErrorCode::invalid_email, "email is required and must be a string"};
  }
  return field->text;
}

// getBalance takes the email from a JSON body or, without a body, from `?email=`.
domain::Result<std::string> balance_email(const HttpRequest& request) {
  std::string raw;
  if (!blank(request.body)) {
    auto field = email_field(request.body);
    if (!field) return field.error();
    raw = std::move(field.value());
  } else if (auto query = request.query_value("email")) {
    raw = *query;
  } else {
    return Error{ErrorCode::invalid_email, "email is required (JSON body or ?email=)"};
  }
  return domain::normalize_email(raw);
}

// Turns transaction-service's NATS reply into the HTTP answer: its error code passes through
// unchanged (same codes as HTTP), a balance is re-formatted to exactly two decimals.
void answer_balance(const ResponderPtr& responder, const std::string& email,
                    const std::string& reply) {
  auto json = nlohmann::json::parse(reply, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    ErrorCode code = ErrorCode::unavailable;
    if (error.contains("code") && error["code"].is_string() &&
        domain::parse_code_name(error["code"].get<std::string>(), code)) {
      const auto message = error.contains("message") && error["message"].is_string()
                               ? error["message"].get<std::string>()
                               : std::string(domain::code_name(code));
      return responder->send_error({code, message});
    }
  } else if (json.is_object() && json.contains("balance") && json["balance"].is_string()) {
    if (auto minor = domain::parse_minor_units(json["balance"].get<std::string>())) {
      return responder->send(
          200,
          nlohmann::json{{"email", email}, {"balance", domain::format_minor_units(*minor)}}.dump());
    }
  }
  responder->send_error({ErrorCode::unavailable, "the balance service gave an unreadable answer"});
}

void add_create_routes(Router& router, const UserApiDeps& deps) {
  auto& db = deps.db;
  auto& relay = deps.relay;
  auto topic = deps.topic;
  Handler create = [&db, &relay, topic](const HttpRequest& request, ResponderPtr responder) {
    if (!require_json(request, responder)) return;
    auto raw = email_field(request.body);
    if (!raw) return responder->send_error(raw.error());
    auto email = domain::normalize_email(*raw);
    if (!email) return responder->send_error(email.error());
    db.run<MaybeUser>(
        "create_user",
        [email = *email, topic](pqxx::connection& conn) {
          return persistence::create_user(conn, email, topic);
        },
        [responder, &relay](domain::Result<MaybeUser> created) {
          if (!created) return responder->send_error(created.error());
          if (!created.value()) {
            return responder->send_error(
                {ErrorCode::email_taken, "a user with this email already exists"});
          }
          relay.wake();  // the outbox row is committed: publish it now rather than at the next poll
          responder->send(201, user_json(*created.value()));
        });
  };
  router.add("POST", "/createUser", create);
  router.add("POST", "/users", create);
}

void add_lookup_routes(Router& router, const UserApiDeps& deps) {
  auto& db = deps.db;
  auto& requester = deps.requester;
  Handler balance = [&db, &requester](const HttpRequest& request, ResponderPtr responder) {
    if (!blank(request.body) && !require_json(request, responder)) return;
    auto email = balance_email(request);
    if (!email) return responder->send_error(email.error());
    db.run<MaybeUser>(
        "find_user_by_email",
        [email = *email](pqxx::connection& conn) {
          return persistence::find_user_by_email(conn, email);
        },
        [responder, &requester](domain::Result<MaybeUser> found) {
          if (!found) return responder->send_error(found.error());
          if (!found.value()) {
            return responder->send_error({ErrorCode::user_not_found, "no user with this email"});
          }
          const auto email = found.value()->email;
          requester.request(messaging::kBalanceSubject,
                            nlohmann::json{{"user_id", found.value()->user_id}}.dump(),
                            [responder, email](domain::Result<std::string> reply) {
                              if (!reply) return responder->send_error(reply.error());
                              answer_balance(responder, email, *reply);
                            });
        });
  };
  router.add("GET", "/getBalance", balance);
  router.add("GET", "/balance", balance);

  router.add("GET", "/users/{user_id}", [&db](const HttpRequest& request, ResponderPtr responder) {
    auto user_id = domain::normalize_uuid(request.params.at("user_id"));
    if (!user_id) {
      return responder->send_error({ErrorCode::invalid_user_id, "user_id must be a UUID"});
    }
    db.run<MaybeUser>(
        "find_user_by_id",
        [id = *user_id](pqxx::connection& conn) { return persistence::find_user_by_id(conn, id); },
        [responder, id = *user_id](domain::Result<MaybeUser> found) {
          if (!found) return responder->send_error(found.error());
          if (!found.value()) {
            return responder->send_error({ErrorCode::user_not_found, "no user " + id});
          }
          responder->send(200, user_json(*found.value()));
        });
  });
}

}  // namespace

void add_user_routes(Router& router, UserApiDeps deps) {
  add_create_routes(router, deps);
  add_lookup_routes(router, deps);
}

}  // namespace wallet::http
