// The load phase: workers, retries with the same key, per-key answers, the after-run resolution.
#include "tools/wallet_stress/load_runner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxAttempts = 20;        // per send, while the load runs
constexpr double kResolveSeconds = 60;  // budget for the after-run resolution
constexpr size_t kStripes = 256;

std::atomic<bool> g_stop{false};

void on_sigint(int) {
  if (g_stop.exchange(true)) std::_Exit(130);
}

class LoadState {
 public:
  LoadState(const TransferPlan& plan, const std::vector<Account>& accounts, LoadResult& result)
      : plan_(plan),
        accounts_(accounts),
        result_(result),
        started_(Clock::now()),
        sends_(plan.transfers.size()) {}

  // Sends one copy of a key until it gets a definitive answer or runs out of attempts; each
  // request goes to the instance instance_for() picks.
  void send(InstanceSessions& sessions, uint32_t transfer, bool original, RunStats& stats,
            const Clock::time_point* give_up_at) {
    const std::string key = plan_.key(transfer);
    const std::string body = plan_.body(transfer, accounts_);
    std::string hold_id;
    const auto kind = plan_.transfers[transfer].kind;
    if (kind == OpKind::capture || kind == OpKind::void_hold) {
      // Release 2: closes the hold its plan names, once that hold was answered 201; a hold that
      // was refused (or never answered) leaves nothing to close, and this key is not sent.
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
      const double at = std::chrono::duration<double>(Clock::now() - started_).count();
      ++stats.requests;
      stats.count_status(answer.status);
      stats.count_instance(instance, answer.status);
      stats.latencies_us.push_back(static_cast<uint32_t>(std::min(answer.seconds * 1e6, 4e9)));
      auto& bucket = stats.bucket(at);
      ++bucket.requests;
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      if (!is_retryable(answer.status)) {
        if (original) ++bucket.transfers;
        if ((answer.status == 200 || answer.status == 201) && !answer.replayed) {
          ++bucket.accepted;
          counters_.accepted.fetch_add(1, std::memory_order_relaxed);
        }
        if (answer.status == 409 && !answer.replayed) {
          counters_.refused.fetch_add(1, std::memory_order_relaxed);
        }
        record(transfer, answer);
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

  ProgressCounters& counters() { return counters_; }
  Clock::time_point started() const { return started_; }

 private:
  std::mutex& stripe(uint32_t transfer) { return stripes_[transfer % kStripes]; }

  // Keys are spread round-robin (key t's first send goes to instance t % n); every later request
  // with the same key (a duplicate, a retry) goes to another instance than that first one, in turn,
  // so that a replay is answered by an instance that did not execute the key.
  size_t instance_for(uint32_t transfer, size_t n) {
    const uint32_t nth = sends_[transfer].fetch_add(1, std::memory_order_relaxed);
    const size_t first = transfer % n;
    if (n < 2 || nth == 0) return first;
    return (first + 1 + (nth - 1) % (n - 1)) % n;
  }

  // The id of hold operation `hold_op` once it has a definitive answer (waiting up to 60 s for
  // it); empty when it was not answered 201.
  std::string wait_for_hold(uint32_t hold_op) {
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(stripe(hold_op));
        const auto& k = result_.keys[hold_op];
        if (k.status != 0) {
          if (k.status != 201) return "";
          auto body = nlohmann::json::parse(k.body, nullptr, false);
          return body.is_object() && body["hold_id"].is_string()
                     ? body["hold_id"].get<std::string>()
                     : "";
        }
      }
      if (Clock::now() > give_up || g_stop.load()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  void record(uint32_t transfer, const HttpAnswer& answer) {
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

  const TransferPlan& plan_;
  const std::vector<Account>& accounts_;
  LoadResult& result_;
  Clock::time_point started_;
  ProgressCounters counters_;
  std::array<std::mutex, kStripes> stripes_;
  std::vector<std::atomic<uint32_t>> sends_;  // requests sent per key so far
};

}  // namespace

void stop_load_on_sigint() { std::signal(SIGINT, on_sigint); }

LoadResult run_load(const StressConfig& config, const TransferPlan& plan,
                    const std::vector<Account>& accounts) {
  LoadResult result;
  result.keys.resize(plan.transfers.size());
  LoadState state(plan, accounts, result);
  const bool limited = config.duration_limit > 0;
  const auto deadline =
      state.started() + std::chrono::milliseconds(static_cast<long>(config.duration_limit * 1000));

  // With a duration limit, retries stop a little after it too (an unreachable service must not
  // stretch the run); keys left open are then re-sent below, within their own time budget.
  const auto retry_until = deadline + std::chrono::seconds(10);
  std::atomic<size_t> next{0};
  std::atomic<bool> cut_short{false};
  std::mutex merge_mutex;
  {
    ProgressBar bar(state.counters(), plan.schedule.size(), config.quiet);
    std::vector<std::thread> workers;
    for (int w = 0; w < config.concurrency; ++w) {
      workers.emplace_back([&] {
        InstanceSessions sessions(config.transaction_services, config.request_timeout_ms);
        RunStats mine;
        mine.latencies_us.reserve(plan.schedule.size() / static_cast<size_t>(config.concurrency) +
                                  16);
        if (config.rate > 0) mine.scheduled_latencies_us.reserve(mine.latencies_us.capacity());
        while (true) {
          if (g_stop.load() || (limited && Clock::now() >= deadline)) {
            if (next.load() < plan.schedule.size()) cut_short = true;
            break;
          }
          // Every index taken is sent, so an original is always sent before (or while) its copies.
          const size_t i = next++;
          if (i >= plan.schedule.size()) break;
          Clock::time_point at{};
          if (config.rate > 0) {
            // Paced: send i goes out at start + i / rate (or at once when the workers are behind).
            at = state.started() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(i / config.rate));
            if (limited && at >= deadline) {
              cut_short = true;
              break;
            }
            std::this_thread::sleep_until(at);
            if (Clock::now() - at > std::chrono::microseconds(kLateSendUs)) ++mine.late_sends;
          }
          const Send& s = plan.schedule[i];
          const bool original = s.kind == SendKind::original;
          ++(original ? mine.transfers_sent : mine.duplicates_sent);
          const uint64_t requests_before = mine.requests;
          state.send(sessions, s.transfer, original, mine, limited ? &retry_until : nullptr);
          if (config.rate > 0 && mine.requests > requests_before) {  // not a capture left unsent
            // Counted from the schedule, not from the send: a client arriving at its time waits
            // for a busy worker too (no coordinated omission).
            const auto waited =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - at).count();
            mine.scheduled_latencies_us.push_back(
                static_cast<uint32_t>(std::min<int64_t>(waited, 4'000'000'000)));
          }
          state.counters().sends_done.fetch_add(1, std::memory_order_relaxed);
        }
        mine.connections_opened = sessions.connections_opened();
        std::lock_guard<std::mutex> lock(merge_mutex);
        result.stats.merge(mine);
      });
    }
    for (auto& worker : workers) worker.join();
    bar.stop();
  }
  result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - state.started()).count();
  result.stopped_early = cut_short.load();

  // Keys sent but never definitively answered (the service kept refusing or was away): ask again
  // with the same key. A replay tells what happened; if nothing had happened, it happens now.
  std::vector<uint32_t> open;
  for (size_t t = 0; t < result.keys.size(); ++t) {
    if (result.keys[t].sent && result.keys[t].answers == 0)
      open.push_back(static_cast<uint32_t>(t));
  }
  if (!open.empty() && !g_stop.load()) {
    note(config.quiet,
         "re-sending " + std::to_string(open.size()) + " keys that have no definitive answer yet");
    const auto give_up_at =
        Clock::now() + std::chrono::milliseconds(static_cast<long>(kResolveSeconds * 1000));
    RunStats after;
    std::mutex after_mutex;
    std::atomic<size_t> next_open{0};
    std::vector<std::thread> resolvers;
    const size_t threads = std::min<size_t>(static_cast<size_t>(config.concurrency), open.size());
    for (size_t w = 0; w < threads; ++w) {
      resolvers.emplace_back([&] {
        InstanceSessions sessions(config.transaction_services, config.request_timeout_ms);
        RunStats mine;
        for (size_t i = next_open++; i < open.size(); i = next_open++) {
          state.send(sessions, open[i], false, mine, &give_up_at);
        }
        // Every resolution request re-sends a key already sent: all are retries.
        mine.retries = mine.requests;
        std::lock_guard<std::mutex> lock(after_mutex);
        after.merge(mine);
      });
    }
    for (auto& resolver : resolvers) resolver.join();
    for (uint32_t t : open) result.resolved_after_run += result.keys[t].answers > 0 ? 1 : 0;
    result.stats.merge(after);
  }
  return result;
}

}  // namespace wallet::stress
