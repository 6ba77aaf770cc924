// UserDirectory: user-service's one facade (DESIGN.md): http/ creates and finds users and asks
// balances through it, and holds no pool, store, relay or NATS client. Database work runs on the
// DbPool (off Pistache's reactor threads); the balance question goes to transaction-service through
// the `ask` function the service wires to its NATS requester. Every callback is called exactly
// once, on a pool or requester thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "domain/result.hpp"

namespace wallet::persistence {
class DbPool;
}

namespace wallet::users {

struct User {
  std::string user_id;
  std::string email;
  std::string created_at;  // RFC 3339, UTC, microseconds
};

struct UserBalance {
  std::string email;
  int64_t minor_units = 0;
};

// Sends `payload` to transaction-service's balance subject; the reply text or a domain error
// (unavailable, upstream_timeout).
using BalanceAsk = std::function<void(const std::string& payload,
                                      std::function<void(domain::Result<std::string>)> reply)>;

class UserDirectory {
 public:
  UserDirectory(persistence::DbPool& pool, std::string event_topic, BalanceAsk ask);

  using UserReply = std::function<void(domain::Result<User>)>;

  // Creates the user and its `user-created` event in one transaction. `email` must be normalized.
  // email_taken when a user has it already.
  void create(const std::string& email, UserReply reply);
  // user_not_found when there is none.
  void find_by_email(const std::string& email, UserReply reply);
  void find_by_id(const std::string& user_id, UserReply reply);
  // Finds the user by email, then asks transaction-service for the account's balance. Errors of
  // the balance service pass through with their code.
  void balance(const std::string& email, std::function<void(domain::Result<UserBalance>)> reply);

 private:
  persistence::DbPool& pool_;
  const std::string topic_;
  const BalanceAsk ask_;
};

// Reads transaction-service's balance reply ({"balance": "12.34"} or {"error": {...}}).
domain::Result<int64_t> decode_balance_reply(const std::string& reply);

}  // namespace wallet::users
