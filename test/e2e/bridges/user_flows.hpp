// What the bridge e2e tests do over and over, as a client would: create a user at user-service,
// wait for transaction-service to have the account, ask for a balance.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/stack_control.hpp"

namespace wallet::test {

inline std::string unique_email(const std::string& tag) {
  return "e2e-" + tag + "-" + domain::new_uuid_v4() + "@example.com";
}

inline HttpResponse create_user(const HttpClient& users, const std::string& email) {
  return users.post("/createUser", nlohmann::json{{"email", email}}.dump());
}

// Polls transaction-service until the account answers 200, at most `timeout`.
inline bool wait_for_account(const HttpClient& ledger, const std::string& user_id,
                             std::chrono::milliseconds timeout,
                             std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ledger.get("/users/" + user_id + "/balance").status == 200) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

inline HttpResponse get_balance(const HttpClient& users, const std::string& email) {
  return users.get("/getBalance?email=" + url_encode(email));
}

}  // namespace wallet::test
