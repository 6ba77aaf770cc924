// The load phase: the workers that send the plan's schedule, and the after-run resolution of keys
// left without a definitive answer (the sends themselves: load_sends.cpp, load_bulk.cpp,
// load_account_ops.cpp).
#include "tools/wallet_stress/load_runner.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <thread>

#include "tools/wallet_stress/load_state_internal.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace load_internal {
std::atomic<bool> g_stop{false};
}  // namespace load_internal

namespace {

using namespace load_internal;
constexpr double kResolveSeconds = 60;  // budget for the after-run resolution

void on_sigint(int) {
  if (g_stop.exchange(true)) std::_Exit(130);
}

// What the workers share while they send the schedule: where it is, and when they stop.
struct ScheduleRun {
  const StressConfig& config;
  const TransferPlan& plan;
  LoadState& state;
  bool limited;                   // --duration-limit given
  Clock::time_point deadline;     // no send starts after it
  Clock::time_point retry_until;  // retries stop a little after the deadline too
  size_t per_request;             // sends per request (--bulk, else 1)
  std::atomic<size_t> next{0};    // the next index of the schedule to take
  std::atomic<bool> cut_short{false};
};

// One worker: takes the next sends of the schedule (paced by --rate) until it is done, the
// deadline passes or SIGINT; returns what it counted.
RunStats run_worker(ScheduleRun& run) {
  InstanceSessions sessions(run.config.transaction_services, run.config.request_timeout_ms);
  RunStats mine;
  mine.latencies_us.reserve(run.plan.schedule.size() / static_cast<size_t>(run.config.concurrency) +
                            16);
  if (run.config.rate > 0) mine.scheduled_latencies_us.reserve(mine.latencies_us.capacity());
  while (true) {
    if (g_stop.load() || (run.limited && Clock::now() >= run.deadline)) {
      if (run.next.load() < run.plan.schedule.size()) run.cut_short = true;
      break;
    }
    // Every index taken is sent, so an original is always sent before (or while) its copies.
    const size_t i = run.next.fetch_add(run.per_request);
    if (i >= run.plan.schedule.size()) break;
    Clock::time_point at{};
    if (run.config.rate > 0) {
      // Paced: send i goes out at start + i / rate (or at once when the workers are behind).
      at = run.state.started() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(i / run.config.rate));
      if (run.limited && at >= run.deadline) {
        run.cut_short = true;
        break;
      }
      std::this_thread::sleep_until(at);
      if (Clock::now() - at > std::chrono::microseconds(kLateSendUs)) ++mine.late_sends;
    }
    const uint64_t requests_before = mine.requests;
    const size_t end = std::min(run.plan.schedule.size(), i + run.per_request);
    std::vector<std::pair<uint32_t, bool>> keys;
    for (size_t j = i; j < end; ++j) {
      const Send& s = run.plan.schedule[j];
      const bool original = s.kind == SendKind::original;
      ++(original ? mine.transfers_sent : mine.duplicates_sent);
      keys.emplace_back(s.transfer, original);
    }
    if (run.config.bulk > 0) {
      run.state.send_bulk(sessions, keys, mine, run.limited ? &run.retry_until : nullptr);
    } else {
      run.state.send(sessions, keys.front().first, keys.front().second, mine,
                     run.limited ? &run.retry_until : nullptr);
    }
    if (run.config.rate > 0 && mine.requests > requests_before) {  // not a capture left unsent
      // Counted from the schedule, not from the send: a client arriving at its time waits
      // for a busy worker too (no coordinated omission).
      const auto waited =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - at).count();
      mine.scheduled_latencies_us.push_back(
          static_cast<uint32_t>(std::min<int64_t>(waited, 4'000'000'000)));
    }
    run.state.counters().sends_done.fetch_add(end - i, std::memory_order_relaxed);
  }
  mine.connections_opened = sessions.connections_opened();
  return mine;
}

// The load phase proper: `concurrency` workers send the schedule; their counts are merged.
void send_schedule(const StressConfig& config, const TransferPlan& plan, LoadState& state,
                   LoadResult& result) {
  const bool limited = config.duration_limit > 0;
  const auto deadline =
      state.started() + std::chrono::milliseconds(static_cast<long>(config.duration_limit * 1000));

  // With a duration limit, retries stop a little after it too (an unreachable service must not
  // stretch the run); keys left open are then re-sent by resolve_open_keys, within their own time
  // budget.
  const auto retry_until = deadline + std::chrono::seconds(10);
  ScheduleRun run{config,
                  plan,
                  state,
                  limited,
                  deadline,
                  retry_until,
                  config.bulk > 0 ? static_cast<size_t>(config.bulk) : 1};
  std::mutex merge_mutex;
  {
    ProgressBar bar(state.counters(), plan.schedule.size(), config.quiet);
    std::vector<std::thread> workers;
    for (int w = 0; w < config.concurrency; ++w) {
      workers.emplace_back([&] {
        RunStats mine = run_worker(run);
        std::lock_guard<std::mutex> lock(merge_mutex);
        result.stats.merge(mine);
      });
    }
    for (auto& worker : workers) worker.join();
    bar.stop();
  }
  result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - state.started()).count();
  result.stopped_early = run.cut_short.load();
}

// After the load: keys sent but left without a definitive answer are sent again.
void resolve_open_keys(const StressConfig& config, LoadState& state, LoadResult& result) {
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
}

}  // namespace

void stop_load_on_sigint() { std::signal(SIGINT, on_sigint); }

bool load_stop_requested() { return g_stop.load(); }

LoadResult run_load(const StressConfig& config, const TransferPlan& plan,
                    const std::vector<Account>& accounts,
                    const std::vector<CurrencyAccount>& extra) {
  LoadResult result;
  result.keys.resize(plan.transfers.size());
  if (!extra.empty()) {
    result.account_ops.resize(plan.transfers.size());
    for (const auto& a : extra) {
      result.line_minor.push_back(a.overdraft_minor);
      result.status.push_back("open");
    }
  }
  LoadState state(plan, accounts, extra, config.min_amount_minor, result);
  send_schedule(config, plan, state, result);
  resolve_open_keys(config, state, result);
  return result;
}

}  // namespace wallet::stress
