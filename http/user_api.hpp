// user-service's HTTP API (SPEC.md section 2): createUser, getBalance and the user lookup.
// Database work runs on the DbPool and the balance question goes over NATS through the
// NatsRequester; handlers answer from those callbacks and never block a reactor thread.
#pragma once

#include <string>

#include "http/router.hpp"
#include "messaging/nats_requester.hpp"
#include "messaging/outbox_relay.hpp"
#include "persistence/db_pool.hpp"

namespace wallet::http {

struct UserApiDeps {
  persistence::DbPool& db;
  messaging::OutboxRelay& relay;        // woken after each committed user
  messaging::NatsRequester& requester;  // asks transaction-service for balances
  std::string topic = "user-created";   // topic of the outbox rows
};

void add_user_routes(Router& router, UserApiDeps deps);

}  // namespace wallet::http
