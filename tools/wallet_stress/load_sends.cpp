// The load phase's sends of single keys: one copy of a key retried with the same key until it has a
// definitive answer, the instance each request goes to, a capture's wait for its hold, and the
// per-key record of the answers.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/currency.hpp"
#include "domain/json_spans.hpp"
#include "tools/wallet_stress/load_state_internal.hpp"

namespace wallet::stress::load_internal {

// Sends one copy of a key until it gets a definitive answer or runs out of attempts; each
// request goes to the instance instance_for() picks.
void LoadState::send(InstanceSessions& sessions, uint32_t transfer, bool original, RunStats& stats,
                     const Clock::time_point* give_up_at) {
  const auto kind = plan_.transfers[transfer].kind;
  if (is_account_op(kind)) return run_account_op(sessions, transfer, original, stats);
  const std::string key = plan_.key(transfer);
  const std::string body = plan_.body(transfer, accounts_, extra_);
  std::string hold_id;
  if (kind == OpKind::capture || kind == OpKind::void_hold) {
    // A capture or void closes the hold its plan names, once that hold was answered 201; a hold
    // that was refused (or never answered) leaves nothing to close, and this key is not sent.
    hold_id = wait_for_hold(plan_.transfers[transfer].hold_op);
    if (hold_id.empty()) return;
  }
  const std::string path = plan_.path(transfer, hold_id);
  {
    std::lock_guard<std::mutex> lock(stripe(transfer));
    result_.keys[transfer].sent = true;
  }
  for (int attempt = 1;; ++attempt) {
    const size_t instance = instance_for(transfer, sessions.size());
    HttpAnswer answer = sessions.at(instance).post(path, body, key);
    auto& bucket = count_request(stats, instance, answer);
    if (!is_retryable(answer.status)) {
      record_outcome(bucket, transfer, original, answer);
      return;
    }
    const bool out_of_time = give_up_at && Clock::now() > *give_up_at;
    if (attempt >= kMaxAttempts || out_of_time || g_stop.load()) {
      std::lock_guard<std::mutex> lock(stripe(transfer));
      ++result_.keys[transfer].gave_up;
      return;
    }
    ++stats.retries;
    counters_.retried.fetch_add(1, std::memory_order_relaxed);
    retry_pause(attempt);
  }
}

// Counts one request and its answer (status, instance, latency, the second it was answered in);
// returns that second's bucket.
SecondBucket& LoadState::count_request(RunStats& stats, size_t instance, const HttpAnswer& answer) {
  const double at = std::chrono::duration<double>(Clock::now() - started_).count();
  ++stats.requests;
  stats.count_status(answer.status);
  stats.count_instance(instance, answer.status);
  stats.latencies_us.push_back(static_cast<uint32_t>(std::min(answer.seconds * 1e6, 4e9)));
  auto& bucket = stats.bucket(at);
  ++bucket.requests;
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  return bucket;
}

// Counts a key's definitive answer (a transfer of that second, accepted or refused) and records it.
void LoadState::record_outcome(SecondBucket& bucket, uint32_t transfer, bool original,
                               const HttpAnswer& answer) {
  if (original) ++bucket.transfers;
  if ((answer.status == 200 || answer.status == 201) && !answer.replayed) {
    ++bucket.accepted;
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  }
  if (answer.status == 409 && !answer.replayed) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
  }
  record(transfer, answer);
}

// The bulk action of an endpoint the plan sends to.
std::string LoadState::action_of(const std::string& path) {
  if (path == "/transferMoney") return "transfer";
  if (path == "/withdrawMoney") return "withdrawal";
  if (path == "/addMoney") return "deposit";
  if (path == "/holds") return "hold";
  if (path == "/transactions") return "transaction";
  return "unknown:" + path;  // refused as invalid_bulk, and reported
}

// Keys are spread round-robin (key t's first send goes to instance t % n); every later request
// with the same key (a duplicate, a retry) goes to another instance than that first one, in turn,
// so that a replay is answered by an instance that did not execute the key.
size_t LoadState::instance_for(uint32_t transfer, size_t n) {
  const uint32_t nth = sends_[transfer].fetch_add(1, std::memory_order_relaxed);
  const size_t first = transfer % n;
  if (n < 2 || nth == 0) return first;
  return (first + 1 + (nth - 1) % (n - 1)) % n;
}

// The id of hold operation `hold_op` once it has a definitive answer (waiting up to 60 s for
// it); empty when it was not answered 201.
std::string LoadState::wait_for_hold(uint32_t hold_op) {
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(stripe(hold_op));
      const auto& k = result_.keys[hold_op];
      if (k.status != 0) {
        if (k.status != 201) return "";
        auto body = nlohmann::json::parse(k.body, nullptr, false);
        return body.is_object() && body["hold_id"].is_string() ? body["hold_id"].get<std::string>()
                                                               : "";
      }
    }
    if (Clock::now() > give_up || g_stop.load()) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void LoadState::record(uint32_t transfer, const HttpAnswer& answer) {
  std::lock_guard<std::mutex> lock(stripe(transfer));
  auto& k = result_.keys[transfer];
  ++k.answers;
  if (!answer.replayed) ++k.originals;
  if (k.status == 0) {
    k.status = answer.status;
    k.body = answer.body;
  } else if (k.status != answer.status || k.body != answer.body) {
    ++k.differing;
    if (k.differing_example.empty()) {
      k.differing_example = std::to_string(answer.status) + " " + answer.body.substr(0, 300);
    }
  }
}

}  // namespace wallet::stress::load_internal
