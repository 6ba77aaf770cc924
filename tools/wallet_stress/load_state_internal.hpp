// Private to the load phase's files (tools/wallet_stress/load_*.cpp): LoadState, what the workers
// share while they send the plan (per-key records, striped locks, the progress counters), and the
// SIGINT flag. Nothing else includes it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tools/wallet_stress/http_session.hpp"
#include "tools/wallet_stress/load_runner.hpp"
#include "tools/wallet_stress/progress_bar.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress::load_internal {

using Clock = std::chrono::steady_clock;
constexpr int kMaxAttempts = 20;  // per send, while the load runs
constexpr size_t kStripes = 256;

// Set by the first SIGINT (load_runner.cpp); senders stop retrying once it is.
extern std::atomic<bool> g_stop;

class LoadState {
 public:
  LoadState(const TransferPlan& plan, const std::vector<Account>& accounts,
            const std::vector<CurrencyAccount>& extra, int64_t probe_cents, LoadResult& result)
      : plan_(plan),
        accounts_(accounts),
        extra_(extra),
        probe_cents_(probe_cents),
        result_(result),
        started_(Clock::now()),
        sends_(plan.transfers.size()),
        account_locks_(new std::mutex[extra.size()]) {}

  // Sends one copy of a key until it gets a definitive answer or runs out of attempts; each
  // request goes to the instance instance_for() picks (load_sends.cpp).
  void send(InstanceSessions& sessions, uint32_t transfer, bool original, RunStats& stats,
            const Clock::time_point* give_up_at);

  // --bulk: sends these keys (schedule order; `original` per key) as operations of POST
  // /transactions/bulk. Each operation's outcome is recorded exactly as a single answer would be;
  // operations answered 429/503 (or a bulk without an answer) go again, in a smaller bulk, with
  // the same keys. Kinds a bulk cannot carry (a capture or void waits for its hold's id, an
  // account operation is a sequence of requests) are sent alone afterwards (load_bulk.cpp).
  void send_bulk(InstanceSessions& sessions, const std::vector<std::pair<uint32_t, bool>>& keys,
                 RunStats& stats, const Clock::time_point* give_up_at);

  ProgressCounters& counters() { return counters_; }
  Clock::time_point started() const { return started_; }

 private:
  // The account operations (load_account_ops.cpp).
  AccountStep step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats, const char* what,
                   const char* method, const std::string& path, const std::string& body,
                   const std::string& key);
  AccountStep money_step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                         const char* what, StepEffect effect, size_t from, int64_t to,
                         int64_t amount, const std::string& suffix);
  static std::string patch_body(const char* field, const std::string& value);
  static bool answered_status(const AccountStep& s, const char* status);
  void run_account_op(InstanceSessions& sessions, uint32_t transfer, bool original,
                      RunStats& stats);
  void set_state(size_t a, const AccountStep& s, const char* status);
  void freeze_steps(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                    const std::string& path, std::vector<AccountStep>& steps);
  void close_steps(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                   const std::string& path, std::vector<AccountStep>& steps);

  std::mutex& stripe(uint32_t transfer) { return stripes_[transfer % kStripes]; }

  // Routing and recording of the sends (load_sends.cpp).
  static std::string action_of(const std::string& path);
  size_t instance_for(uint32_t transfer, size_t n);
  std::string wait_for_hold(uint32_t hold_op);
  void record(uint32_t transfer, const HttpAnswer& answer);
  SecondBucket& count_request(RunStats& stats, size_t instance, const HttpAnswer& answer);
  void record_outcome(SecondBucket& bucket, uint32_t transfer, bool original,
                      const HttpAnswer& answer);
  std::string bulk_body(const std::vector<std::pair<uint32_t, bool>>& pending) const;

  const TransferPlan& plan_;
  const std::vector<Account>& accounts_;
  const std::vector<CurrencyAccount>& extra_;
  int64_t probe_cents_;  // the credit a freeze probes with (--min-amount, in the currency)
  LoadResult& result_;
  Clock::time_point started_;
  ProgressCounters counters_;
  std::array<std::mutex, kStripes> stripes_;
  std::vector<std::atomic<uint32_t>> sends_;     // requests sent per key so far
  std::unique_ptr<std::mutex[]> account_locks_;  // per AccountSetup::extra account
};

}  // namespace wallet::stress::load_internal
