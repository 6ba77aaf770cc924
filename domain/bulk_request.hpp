// Decoding of POST /transactions/bulk: up to 1,000 independent money operations in one request,
// each with its own idempotency key, each run exactly as its own endpoint would run it (the HTTP
// layer hands every operation to that endpoint's handler). This decodes and checks the envelope
// only: an operation's `data` is the body of its endpoint and that endpoint judges it, so a bad
// amount is that operation's 400, not the bulk's. Pure and exception-free.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "domain/result.hpp"

namespace wallet::domain {

constexpr size_t kMaxBulkOperations = 1000;
// A bulk body may be larger than the 64 KiB of every other route: 1,000 transfers of ~160 bytes,
// or fewer transactions of many postings.
constexpr size_t kMaxBulkBodyBytes = 1024 * 1024;

// One operation, as the request its endpoint receives.
struct BulkOperation {
  std::string action;  // "transfer", "deposit", ...
  std::string path;    // "/transferMoney", "/transactions/<id>/reverse", ...
  std::string idempotency_key;
  std::string body;  // `data` as JSON text ("{}" when absent)
};

// The actions and their endpoints, for error messages and docs.
const std::vector<std::string>& bulk_actions();

// `{"operations": [{"action", "idempotency_key", "data"?, "hold_id"? | "transaction_id"?}, ...]}`
// (1..kMaxBulkOperations). 400 invalid_bulk naming the operation's index for a bad envelope:
// an unknown action, a missing or invalid key, `data` that is not an object, a missing
// hold_id/transaction_id; nothing of the bulk runs then. A key may appear twice (a retry packed
// with its original): both run as two requests with that key would, one executes, one replays.
Result<std::vector<BulkOperation>> decode_bulk(const std::string& body);

}  // namespace wallet::domain
