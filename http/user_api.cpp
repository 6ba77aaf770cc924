#include "http/user_api.hpp"

#include <nlohmann/json.hpp>

#include "domain/email.hpp"
#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"
#include "http/common.hpp"

namespace wallet::http {
namespace {

using domain::Error;
using domain::ErrorCode;
using users::User;

std::string user_json(const User& user) {
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

void add_create_routes(Router& router, users::UserDirectory& directory) {
  Handler create = [&directory](const HttpRequest& request, ResponderPtr responder) {
    if (!require_json(request, responder)) return;
    auto raw = email_field(request.body);
    if (!raw) return responder->send_error(raw.error());
    auto email = domain::normalize_email(*raw);
    if (!email) return responder->send_error(email.error());
    // The relay is woken by the outbox's NOTIFY when the row commits.
    directory.create(*email, [responder](domain::Result<User> created) {
      if (!created) return responder->send_error(created.error());
      responder->send(201, user_json(*created));
    });
  };
  router.add("POST", "/createUser", create);
  router.add("POST", "/users", create);
}

void add_lookup_routes(Router& router, users::UserDirectory& directory) {
  Handler balance = [&directory](const HttpRequest& request, ResponderPtr responder) {
    if (!blank(request.body) && !require_json(request, responder)) return;
    auto email = balance_email(request);
    if (!email) return responder->send_error(email.error());
    // transaction-service's error codes pass through unchanged (same codes as HTTP); a balance is
    // re-formatted to exactly two decimals.
    directory.balance(*email, [responder](domain::Result<users::UserBalance> found) {
      if (!found) return responder->send_error(found.error());
      responder->send(200,
                      nlohmann::json{{"email", found->email},
                                     {"balance", domain::format_minor_units(found->minor_units)}}
                          .dump());
    });
  };
  router.add("GET", "/getBalance", balance);
  router.add("GET", "/balance", balance);

  router.add(
      "GET", "/users/{user_id}", [&directory](const HttpRequest& request, ResponderPtr responder) {
        auto user_id = domain::normalize_uuid(request.params.at("user_id"));
        if (!user_id) {
          return responder->send_error({ErrorCode::invalid_user_id, "user_id must be a UUID"});
        }
        directory.find_by_id(*user_id, [responder](domain::Result<User> found) {
          if (!found) return responder->send_error(found.error());
          responder->send(200, user_json(*found));
        });
      });
}

}  // namespace

void add_user_routes(Router& router, users::UserDirectory& directory) {
  add_create_routes(router, directory);
  add_lookup_routes(router, directory);
}

}  // namespace wallet::http
