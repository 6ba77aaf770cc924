#include "users/user_directory.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/user_created_event.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/user_store.hpp"

namespace wallet::users {
namespace {

using domain::Error;
using domain::ErrorCode;
using MaybeRecord = std::optional<persistence::UserRecord>;

// The pool's answer as a User, or `missing` when there is none.
domain::Result<User> user_or(domain::Result<MaybeRecord> found, Error missing) {
  if (!found) return found.error();
  if (!found.value()) return missing;
  auto& record = *found.value();
  return User{std::move(record.user_id), std::move(record.email), std::move(record.created_at)};
}

}  // namespace

UserDirectory::UserDirectory(persistence::DbPool& pool, std::string event_topic, BalanceAsk ask)
    : pool_(pool), topic_(std::move(event_topic)), ask_(std::move(ask)) {}

void UserDirectory::create(const std::string& email, UserReply reply) {
  domain::UserCreatedEvent event;
  event.event_id = domain::new_uuid_v4();
  event.user_id = domain::new_uuid_v4();
  event.email = email;
  event.created_at = domain::format_utc_timestamp(std::chrono::system_clock::now());
  persistence::NewUser user{event.user_id, email, event.created_at, topic_,
                            domain::encode_user_created(event)};
  pool_.run<MaybeRecord>(
      "create_user",
      [user = std::move(user)](pqxx::connection& conn) {
        return persistence::create_user(conn, user);
      },
      [reply = std::move(reply)](domain::Result<MaybeRecord> created) {
        reply(user_or(std::move(created),
                      {ErrorCode::email_taken, "a user with this email already exists"}));
      });
}

void UserDirectory::find_by_email(const std::string& email, UserReply reply) {
  pool_.run<MaybeRecord>(
      "find_user_by_email",
      [email](pqxx::connection& conn) { return persistence::find_user_by_email(conn, email); },
      [reply = std::move(reply)](domain::Result<MaybeRecord> found) {
        reply(user_or(std::move(found), {ErrorCode::user_not_found, "no user with this email"}));
      });
}

void UserDirectory::find_by_id(const std::string& user_id, UserReply reply) {
  pool_.run<MaybeRecord>(
      "find_user_by_id",
      [user_id](pqxx::connection& conn) { return persistence::find_user_by_id(conn, user_id); },
      [reply = std::move(reply), user_id](domain::Result<MaybeRecord> found) {
        reply(user_or(std::move(found), {ErrorCode::user_not_found, "no user " + user_id}));
      });
}

void UserDirectory::balance(const std::string& email,
                            std::function<void(domain::Result<UserBalance>)> reply) {
  find_by_email(email, [ask = ask_, reply = std::move(reply)](domain::Result<User> found) {
    if (!found) return reply(found.error());
    ask(nlohmann::json{{"user_id", found->user_id}}.dump(),
        [reply, email = found->email](domain::Result<std::string> answer) {
          if (!answer) return reply(answer.error());
          auto minor = decode_balance_reply(*answer);
          if (!minor) return reply(minor.error());
          reply(UserBalance{email, *minor});
        });
  });
}

domain::Result<int64_t> decode_balance_reply(const std::string& reply) {
  auto json = nlohmann::json::parse(reply, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    ErrorCode code = ErrorCode::unavailable;
    if (error.contains("code") && error["code"].is_string() &&
        domain::parse_code_name(error["code"].get<std::string>(), code)) {
      const auto message = error.contains("message") && error["message"].is_string()
                               ? error["message"].get<std::string>()
                               : std::string(domain::code_name(code));
      return Error{code, message};
    }
  } else if (json.is_object() && json.contains("balance") && json["balance"].is_string()) {
    if (auto minor = domain::parse_minor_units(json["balance"].get<std::string>())) return *minor;
  }
  return Error{ErrorCode::unavailable, "the balance service gave an unreadable answer"};
}

}  // namespace wallet::users
