// The --postings load: funding, workers over the schedule, retries with the same key, the
// after-run resolution of keys left without a definitive answer.
#include "tools/wallet_stress/postings_load.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxAttempts = 20;           // per send, while the load runs
constexpr double kResolveSeconds = 60;     // budget of the after-run resolution
constexpr double kTargetWaitSeconds = 60;  // how long a reversal waits for its target's answer
constexpr size_t kStripes = 256;

class PostingsSender {
 public:
  PostingsSender(const PostingPlan& plan, const PostingsSetup& setup, PostingsLoad& load)
      : plan_(plan), setup_(setup), load_(load), started_(Clock::now()) {}

  // Sends one copy of op's key until it gets a definitive answer or runs out of attempts.
  // False when it was not sent (a reversal whose target was not answered 201).
  bool send(InstanceSessions& sessions, uint32_t op, bool original, RunStats& stats,
            const Clock::time_point* give_up_at) {
    std::string target_id;
    if (plan_.ops[op].kind == PostingKind::reverse) {
      target_id = wait_for_target(plan_.ops[op].target);
      if (target_id.empty()) return false;
    }
    const std::string key = plan_.key(op);
    const std::string path = plan_.path(op, target_id);
    const std::string body = plan_.body(op, setup_);
    {
      std::lock_guard<std::mutex> lock(stripe(op));
      load_.keys[op].sent = true;
    }
    for (int attempt = 1;; ++attempt) {
      // Keys spread round-robin; a later send of a key (duplicate, retry) goes to the next one.
      const size_t instance = (op + attempt - 1 + (original ? 0 : 1)) % sessions.size();
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
        if (answer.status == 201 && !answer.replayed) {
          ++bucket.accepted;
          counters_.accepted.fetch_add(1, std::memory_order_relaxed);
        }
        if (answer.status >= 400 && !answer.replayed) {
          counters_.refused.fetch_add(1, std::memory_order_relaxed);
        }
        record(op, answer);
        return true;
      }
      const bool out_of_time = give_up_at && Clock::now() > *give_up_at;
      if (attempt >= kMaxAttempts || out_of_time || load_stop_requested()) {
        std::lock_guard<std::mutex> lock(stripe(op));
        ++load_.keys[op].gave_up;
        return true;
      }
      ++stats.retries;
      counters_.retried.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lock(stripe(op));
        ++load_.retries[op];
      }
      retry_pause(attempt);
    }
  }

  ProgressCounters& counters() { return counters_; }
  Clock::time_point started() const { return started_; }

 private:
  std::mutex& stripe(uint32_t op) { return stripes_[op % kStripes]; }

  // The target's transaction id once it has a definitive answer; empty when that is not 201.
  std::string wait_for_target(uint32_t target) {
    const auto give_up =
        Clock::now() + std::chrono::milliseconds(static_cast<long>(kTargetWaitSeconds * 1000));
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(stripe(target));
        const auto& k = load_.keys[target];
        if (k.status != 0) return answered_transaction_id(k);
      }
      if (Clock::now() > give_up || load_stop_requested()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  void record(uint32_t op, const HttpAnswer& answer) {
    std::lock_guard<std::mutex> lock(stripe(op));
    auto& k = load_.keys[op];
    ++k.answers;
    if (!answer.replayed) ++k.originals;
    auto& variants = load_.variants[op];
    const std::string variant = std::to_string(answer.status) + " " + answer.body;
    if (variants.size() < PostingsLoad::kVariantsKept &&
        std::find(variants.begin(), variants.end(), variant) == variants.end()) {
      variants.push_back(variant);
    }
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

  const PostingPlan& plan_;
  const PostingsSetup& setup_;
  PostingsLoad& load_;
  Clock::time_point started_;
  ProgressCounters counters_;
  std::array<std::mutex, kStripes> stripes_;
};

// Keys sent but never definitively answered: sent again with the same key until answered (a
// replay tells what happened; if nothing had happened, it happens now).
void resolve_open_keys(const StressConfig& config, PostingsSender& sender, PostingsLoad& load) {
  std::vector<uint32_t> open;
  for (size_t op = 0; op < load.keys.size(); ++op) {
    if (load.keys[op].sent && load.keys[op].answers == 0) open.push_back(uint32_t(op));
  }
  if (open.empty() || load_stop_requested()) return;
  note(config.quiet,
       "re-sending " + std::to_string(open.size()) + " keys that have no definitive answer yet");
  const auto give_up_at =
      Clock::now() + std::chrono::milliseconds(static_cast<long>(kResolveSeconds * 1000));
  std::mutex merge;
  std::atomic<size_t> next{0};
  std::vector<std::thread> resolvers;
  const size_t threads = std::min<size_t>(size_t(config.concurrency), open.size());
  for (size_t w = 0; w < threads; ++w) {
    resolvers.emplace_back([&] {
      InstanceSessions sessions(config.transaction_services, config.request_timeout_ms);
      RunStats mine;
      for (size_t i = next++; i < open.size(); i = next++) {
        sender.send(sessions, open[i], false, mine, &give_up_at);
      }
      mine.retries = mine.requests;  // every request here re-sends a key already sent
      std::lock_guard<std::mutex> lock(merge);
      load.stats.merge(mine);
    });
  }
  for (auto& r : resolvers) r.join();
  for (uint32_t op : open) load.resolved_after_run += load.keys[op].answers > 0 ? 1 : 0;
}

}  // namespace

std::string answered_transaction_id(const KeyRecord& key) {
  if (key.status != 201) return "";
  auto body = nlohmann::json::parse(key.body, nullptr, false);
  if (!body.is_object() || !body["transaction_id"].is_string()) return "";
  return domain::normalize_uuid(body["transaction_id"].get<std::string>()).value_or("");
}

std::string fund_postings_accounts(const StressConfig& config, const PostingPlan& plan,
                                   const PostingsSetup& setup, PostingsLoad& load) {
  load.keys.resize(plan.ops.size());
  load.retries.resize(plan.ops.size());
  load.variants.resize(plan.ops.size());
  PostingsSender sender(plan, setup, load);
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  const size_t threads = std::min<size_t>(size_t(config.concurrency), plan.funding_ops);
  for (size_t w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      InstanceSessions sessions(config.transaction_services, config.request_timeout_ms);
      RunStats mine;
      for (size_t op = next++; op < plan.funding_ops; op = next++) {
        sender.send(sessions, uint32_t(op), true, mine, nullptr);
      }
    });
  }
  for (auto& w : workers) w.join();
  for (size_t op = 0; op < plan.funding_ops; ++op) {
    const auto& k = load.keys[op];
    if (k.status != 201) {
      return "funding transaction " + plan.key(uint32_t(op)) + ": " +
             (k.status ? std::to_string(k.status) + " " + k.body.substr(0, 200)
                       : std::string("no answer"));
    }
  }
  return "";
}

void run_postings_load(const StressConfig& config, const PostingPlan& plan,
                       const PostingsSetup& setup, PostingsLoad& load) {
  load.keys.resize(plan.ops.size());
  load.retries.resize(plan.ops.size());
  load.variants.resize(plan.ops.size());
  PostingsSender sender(plan, setup, load);
  const bool limited = config.duration_limit > 0;
  const auto deadline =
      sender.started() + std::chrono::milliseconds(static_cast<long>(config.duration_limit * 1000));
  // With a duration limit, retries stop a little after it too; keys left open are re-sent below.
  const auto retry_until = deadline + std::chrono::seconds(10);
  std::atomic<size_t> next{0};
  std::atomic<bool> cut_short{false};
  std::mutex merge;
  {
    ProgressBar bar(sender.counters(), plan.schedule.size(), config.quiet);
    std::vector<std::thread> workers;
    for (int w = 0; w < config.concurrency; ++w) {
      workers.emplace_back([&] {
        InstanceSessions sessions(config.transaction_services, config.request_timeout_ms);
        RunStats mine;
        while (true) {
          if (load_stop_requested() || (limited && Clock::now() >= deadline)) {
            if (next.load() < plan.schedule.size()) cut_short = true;
            break;
          }
          // Every index taken is sent, so an original is always sent before (or while) its copies,
          // and the members of a racing group go out one right behind the other.
          const size_t i = next++;
          if (i >= plan.schedule.size()) break;
          const Send& s = plan.schedule[i];
          const bool original = s.kind == SendKind::original;
          if (sender.send(sessions, s.transfer, original, mine, limited ? &retry_until : nullptr)) {
            ++(original ? mine.transfers_sent : mine.duplicates_sent);
          }
          sender.counters().sends_done.fetch_add(1, std::memory_order_relaxed);
        }
        mine.connections_opened = sessions.connections_opened();
        std::lock_guard<std::mutex> lock(merge);
        load.stats.merge(mine);
      });
    }
    for (auto& worker : workers) worker.join();
    bar.stop();
  }
  load.elapsed_seconds = std::chrono::duration<double>(Clock::now() - sender.started()).count();
  load.stopped_early = cut_short.load();
  resolve_open_keys(config, sender, load);
}

}  // namespace wallet::stress
