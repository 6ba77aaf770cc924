// The load phase's --bulk sends: keys as operations of POST /transactions/bulk, each operation's
// outcome recorded as a single answer would be, the retryable ones sent again in a smaller bulk.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/currency.hpp"
#include "domain/json_spans.hpp"
#include "tools/wallet_stress/load_state_internal.hpp"

namespace wallet::stress::load_internal {

// The body of POST /transactions/bulk carrying these keys, in order.
std::string LoadState::bulk_body(const std::vector<std::pair<uint32_t, bool>>& pending) const {
  std::string body = R"({"operations":[)";
  for (size_t i = 0; i < pending.size(); ++i) {
    const uint32_t t = pending[i].first;
    body += i ? "," : "";
    body += R"({"action":")" + action_of(plan_.path(t, "")) + R"(","idempotency_key":)" +
            nlohmann::json(plan_.key(t)).dump() + R"(,"data":)" + plan_.body(t, accounts_, extra_) +
            "}";
  }
  body += "]}";
  return body;
}

// --bulk: sends these keys (schedule order; `original` per key) as operations of POST
// /transactions/bulk. Each operation's outcome is recorded exactly as a single answer would be;
// operations answered 429/503 (or a bulk without an answer) go again, in a smaller bulk, with
// the same keys. Kinds a bulk cannot carry (a capture or void waits for its hold's id, an
// account operation is a sequence of requests) are sent alone afterwards.
void LoadState::send_bulk(InstanceSessions& sessions,
                          const std::vector<std::pair<uint32_t, bool>>& keys, RunStats& stats,
                          const Clock::time_point* give_up_at) {
  std::vector<std::pair<uint32_t, bool>> alone, pending;
  for (const auto& key : keys) {
    const auto kind = plan_.transfers[key.first].kind;
    const bool bulkable =
        !is_account_op(kind) && kind != OpKind::capture && kind != OpKind::void_hold;
    (bulkable ? pending : alone).push_back(key);
  }
  for (const auto& [transfer, original] : pending) {
    std::lock_guard<std::mutex> lock(stripe(transfer));
    result_.keys[transfer].sent = true;
  }
  for (int attempt = 1; !pending.empty(); ++attempt) {
    const size_t instance = instance_for(pending.front().first, sessions.size());
    HttpAnswer answer = sessions.at(instance).post("/transactions/bulk", bulk_body(pending), "");
    auto& bucket = count_request(stats, instance, answer);
    std::vector<std::pair<uint32_t, bool>> again;
    auto results = nlohmann::json::parse(answer.body, nullptr, false);
    const bool answered = answer.status == 200 && results.is_object() &&
                          results["results"].is_array() &&
                          results["results"].size() == pending.size();
    if (!answered && !is_retryable(answer.status)) {
      // The bulk itself was refused (a 400 or 413 is the driver's bug or the service's): every
      // operation is recorded with that answer, for the verifier to report.
      for (const auto& [transfer, original] : pending) {
        if (original) ++bucket.transfers;
        record(transfer, answer);
      }
      break;
    }
    // Each body in the service's own bytes (compared byte for byte with its replays).
    const auto bodies = answered ? domain::member_texts(answer.body, "results", "body")
                                 : std::vector<std::string>{};
    for (size_t i = 0; answered && i < pending.size(); ++i) {
      const auto& r = results["results"][i];
      HttpAnswer one;
      one.status = r["status"].is_number_integer() ? r["status"].get<int>() : 0;
      one.body = i < bodies.size() ? bodies[i] : r["body"].dump();
      one.replayed = r["replayed"] == true;
      one.seconds = answer.seconds;
      const auto [transfer, original] = pending[i];
      if (is_retryable(one.status)) {
        again.push_back(pending[i]);
        continue;
      }
      record_outcome(bucket, transfer, original, one);
    }
    if (!answered) again = pending;
    if (again.empty()) break;
    const bool out_of_time = give_up_at && Clock::now() > *give_up_at;
    if (attempt >= kMaxAttempts || out_of_time || g_stop.load()) {
      for (const auto& [transfer, original] : again) {
        std::lock_guard<std::mutex> lock(stripe(transfer));
        ++result_.keys[transfer].gave_up;
      }
      break;
    }
    stats.retries += again.size();
    counters_.retried.fetch_add(again.size(), std::memory_order_relaxed);
    retry_pause(attempt);
    pending = std::move(again);
  }
  for (const auto& [transfer, original] : alone)
    send(sessions, transfer, original, stats, give_up_at);
}

}  // namespace wallet::stress::load_internal
