// StressConfig: what one wallet-stress run does, as given on the command line (main.cpp parses
// it); also written into the JSON result so that a run can be repeated.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace wallet::stress {

struct StressConfig {
  std::string user_service = "http://127.0.0.1:8080";
  std::string transaction_service = "http://127.0.0.1:8081";
  int users = 100;
  std::string reuse_users;  // path of a previous run's JSON; empty: create `users` new users
  std::string fund = "1000.00";
  int64_t fund_minor = 100'000;
  int64_t transfers = 10'000;
  int concurrency = 32;
  double duplicate_share = 0.25;
  double hot_share = 0.0;
  std::string min_amount = "1.00";
  std::string max_amount = "100.00";
  int64_t min_amount_minor = 100;
  int64_t max_amount_minor = 10'000;
  uint64_t seed = 1;
  double duration_limit = 0;  // seconds; 0: no limit
  std::string database_url;   // empty: API checks only
  std::string json_path;
  std::string html_path;
  bool quiet = false;
  bool self_check_corrupt = false;
  long request_timeout_ms = 30'000;
  double account_wait_seconds = 60;  // how long user-created events get to reach the ledger
};

inline nlohmann::json to_json(const StressConfig& c) {
  return {{"user_service", c.user_service},
          {"transaction_service", c.transaction_service},
          {"users", c.users},
          {"reuse_users", c.reuse_users},
          {"fund", c.fund},
          {"transfers", c.transfers},
          {"concurrency", c.concurrency},
          {"duplicate_share", c.duplicate_share},
          {"hot_share", c.hot_share},
          {"min_amount", c.min_amount},
          {"max_amount", c.max_amount},
          {"seed", c.seed},
          {"duration_limit", c.duration_limit},
          {"database_checks", !c.database_url.empty()},
          {"self_check_corrupt", c.self_check_corrupt},
          {"request_timeout_ms", c.request_timeout_ms}};
}

}  // namespace wallet::stress
