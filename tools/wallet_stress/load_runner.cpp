// The load phase: workers, retries with the same key, per-key answers, the after-run resolution.
#include "tools/wallet_stress/load_runner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/currency.hpp"
#include "domain/json_spans.hpp"
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
  // request goes to the instance instance_for() picks.
  void send(InstanceSessions& sessions, uint32_t transfer, bool original, RunStats& stats,
            const Clock::time_point* give_up_at) {
    const auto kind = plan_.transfers[transfer].kind;
    if (is_account_op(kind)) return run_account_op(sessions, transfer, original, stats);
    const std::string key = plan_.key(transfer);
    const std::string body = plan_.body(transfer, accounts_, extra_);
    std::string hold_id;
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

  // --bulk: sends these keys (schedule order; `original` per key) as operations of POST
  // /transactions/bulk. Each operation's outcome is recorded exactly as a single answer would be;
  // operations answered 429/503 (or a bulk without an answer) go again, in a smaller bulk, with
  // the same keys. Kinds a bulk cannot carry (a capture or void waits for its hold's id, an
  // account operation is a sequence of requests) are sent alone afterwards.
  void send_bulk(InstanceSessions& sessions, const std::vector<std::pair<uint32_t, bool>>& keys,
                 RunStats& stats, const Clock::time_point* give_up_at) {
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
      std::string body = R"({"operations":[)";
      for (size_t i = 0; i < pending.size(); ++i) {
        const uint32_t t = pending[i].first;
        body += i ? "," : "";
        body += R"({"action":")" + action_of(plan_.path(t, "")) + R"(","idempotency_key":)" +
                nlohmann::json(plan_.key(t)).dump() + R"(,"data":)" +
                plan_.body(t, accounts_, extra_) + "}";
      }
      body += "]}";
      const size_t instance = instance_for(pending.front().first, sessions.size());
      HttpAnswer answer = sessions.at(instance).post("/transactions/bulk", body, "");
      const double at = std::chrono::duration<double>(Clock::now() - started_).count();
      ++stats.requests;
      stats.count_status(answer.status);
      stats.count_instance(instance, answer.status);
      stats.latencies_us.push_back(static_cast<uint32_t>(std::min(answer.seconds * 1e6, 4e9)));
      auto& bucket = stats.bucket(at);
      ++bucket.requests;
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
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
        if (original) ++bucket.transfers;
        if ((one.status == 200 || one.status == 201) && !one.replayed) {
          ++bucket.accepted;
          counters_.accepted.fetch_add(1, std::memory_order_relaxed);
        }
        if (one.status == 409 && !one.replayed) {
          counters_.refused.fetch_add(1, std::memory_order_relaxed);
        }
        record(transfer, one);
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

  ProgressCounters& counters() { return counters_; }
  Clock::time_point started() const { return started_; }

 private:
  // One request of an account operation, retried on 429/503/no answer (money steps
  // with their own key, so a retry is safe; PATCH sets a state, so repeating it is too).
  AccountStep step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats, const char* what,
                   const char* method, const std::string& path, const std::string& body,
                   const std::string& key) {
    AccountStep s;
    s.what = what;
    s.request = std::string(method) + " " + path + (body.empty() ? "" : " " + body);
    for (int attempt = 1;; ++attempt) {
      const size_t instance = instance_for(transfer, sessions.size());
      auto& session = sessions.at(instance);
      HttpAnswer answer = std::string(method) == "GET"     ? session.get(path)
                          : std::string(method) == "PATCH" ? session.patch(path, body)
                                                           : session.post(path, body, key);
      const double at = std::chrono::duration<double>(Clock::now() - started_).count();
      ++stats.requests;
      stats.count_status(answer.status);
      stats.count_instance(instance, answer.status);
      stats.latencies_us.push_back(static_cast<uint32_t>(std::min(answer.seconds * 1e6, 4e9)));
      ++stats.bucket(at).requests;
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      if (!is_retryable(answer.status)) {
        s.status = answer.status;
        s.body = std::move(answer.body);
        s.replayed = answer.replayed;
        return s;
      }
      if (attempt >= kMaxAttempts || g_stop.load()) return s;
      s.retried = true;
      ++stats.retries;
      counters_.retried.fetch_add(1, std::memory_order_relaxed);
      retry_pause(attempt);
    }
  }

  // A money step of an account operation: its effect and accounts, for the verifier.
  AccountStep money_step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                         const char* what, StepEffect effect, size_t from, int64_t to,
                         int64_t amount, const std::string& suffix) {
    const auto& a = extra_[from];
    const std::string text = domain::format_minor(amount, a.exponent);
    std::string path;
    nlohmann::json body;
    switch (effect) {
      case StepEffect::deposit:
      case StepEffect::withdraw:
        path = effect == StepEffect::deposit ? "/addMoney" : "/withdrawMoney";
        body = {{"account_id", a.account_id}, {"amount", text}};
        break;
      case StepEffect::transfer:
        path = "/transferMoney";
        body = {{"from_account_id", a.account_id},
                {"to_account_id", extra_[static_cast<size_t>(to)].account_id},
                {"amount", text}};
        break;
      case StepEffect::hold:
        path = "/holds";
        body = {{"from_account_id", a.account_id},
                {"to_account_id", extra_[static_cast<size_t>(to)].account_id},
                {"amount", text},
                {"timeout_seconds", 600}};
        break;
      default:
        break;
    }
    AccountStep s = step(sessions, transfer, stats, what, "POST", path, body.dump(),
                         plan_.key(transfer) + "-" + suffix);
    s.effect = effect;
    s.from = static_cast<int64_t>(from);
    s.to = to;
    s.amount_minor = amount;
    return s;
  }

  static std::string patch_body(const char* field, const std::string& value) {
    return nlohmann::json{{field, value}}.dump();
  }
  static bool answered_status(const AccountStep& s, const char* status) {
    auto body = nlohmann::json::parse(s.body, nullptr, false);
    return s.status == 200 && body.is_object() && body["status"] == status;
  }

  // An overdraft, freeze or close, one at a time per account (a client-side lock), so
  // that the driver knows the line and status each account was left with.
  void run_account_op(InstanceSessions& sessions, uint32_t transfer, bool original,
                      RunStats& stats) {
    if (!original) return;  // never scheduled twice; nothing to do for a copy
    const auto& t = plan_.transfers[transfer];
    const size_t a = t.from;
    const auto& account = extra_[a];
    const std::string path = "/accounts/" + account.account_id;
    {
      std::lock_guard<std::mutex> lock(stripe(transfer));
      result_.keys[transfer].sent = true;
    }
    std::vector<AccountStep> steps;
    const int64_t unit = 1;  // one minor unit
    const int64_t credit = scale_to_currency(probe_cents_, account.exponent);
    {
      std::lock_guard<std::mutex> held(account_locks_[a]);
      auto set_state = [&](const AccountStep& s, const char* status) {
        if (!answered_status(s, status)) return;
        result_.status[a] = status;
        auto body = nlohmann::json::parse(s.body, nullptr, false);
        auto line = body["overdraft_limit"].is_string()
                        ? domain::parse_stored_minor(body["overdraft_limit"].get<std::string>(),
                                                     account.exponent)
                        : std::nullopt;
        if (line) result_.line_minor[a] = *line;
      };
      switch (t.kind) {
        case OpKind::overdraft: {
          steps.push_back(step(
              sessions, transfer, stats, "line", "PATCH", path,
              patch_body("overdraft_limit", domain::format_minor(t.amount_minor, account.exponent)),
              ""));
          steps.back().amount_minor = t.amount_minor;
          if (steps.back().status == 200) result_.line_minor[a] = t.amount_minor;
          break;
        }
        case OpKind::freeze: {
          // A peer of the same currency to send the probes to.
          int64_t peer = -1;
          for (size_t p = 0; p < extra_.size() && peer < 0; ++p) {
            if (p != a && !extra_[p].closable && extra_[p].currency == account.currency) {
              peer = static_cast<int64_t>(p);
            }
          }
          steps.push_back(step(sessions, transfer, stats, "freeze", "PATCH", path,
                               patch_body("status", "frozen"), ""));
          set_state(steps.back(), "frozen");
          steps.push_back(money_step(sessions, transfer, stats, "debit while frozen",
                                     StepEffect::withdraw, a, -1, unit, "withdraw"));
          steps.push_back(money_step(sessions, transfer, stats, "hold while frozen",
                                     StepEffect::hold, a, peer, unit, "hold"));
          if (steps.back().status == 201) {
            // Not to be: the hold is voided again, so that it reserves nothing after the run.
            auto body = nlohmann::json::parse(steps.back().body, nullptr, false);
            if (body.is_object() && body["hold_id"].is_string()) {
              AccountStep v = step(sessions, transfer, stats, "void of a hold while frozen", "POST",
                                   "/holds/" + body["hold_id"].get<std::string>() + "/void", "{}",
                                   plan_.key(transfer) + "-void");
              v.effect = StepEffect::void_hold;
              v.from = static_cast<int64_t>(a);
              v.to = peer;
              v.amount_minor = unit;
              steps.push_back(std::move(v));
            }
          }
          steps.push_back(money_step(sessions, transfer, stats, "transfer while frozen",
                                     StepEffect::transfer, a, peer, unit, "transfer"));
          steps.push_back(money_step(sessions, transfer, stats, "credit while frozen",
                                     StepEffect::deposit, a, -1, credit, "credit"));
          steps.push_back(step(sessions, transfer, stats, "unfreeze", "PATCH", path,
                               patch_body("status", "open"), ""));
          set_state(steps.back(), "open");
          break;
        }
        case OpKind::close: {
          const auto to = static_cast<int64_t>(t.to);
          steps.push_back(step(sessions, transfer, stats, "close while holding money", "PATCH",
                               path, patch_body("status", "closed"), ""));
          set_state(steps.back(), "closed");
          steps.push_back(step(sessions, transfer, stats, "read", "GET", path, "", ""));
          auto read = nlohmann::json::parse(steps.back().body, nullptr, false);
          // What it holds (0 when unreadable: the read step is reported then).
          const int64_t balance =
              steps.back().status == 200 && read.is_object() && read["balance"].is_string()
                  ? domain::parse_stored_minor(read["balance"].get<std::string>(), account.exponent)
                        .value_or(0)
                  : 0;
          if (balance > 0) {
            steps.push_back(money_step(sessions, transfer, stats, "empty", StepEffect::transfer, a,
                                       to, balance, "empty"));
          }
          steps.push_back(step(sessions, transfer, stats, "close", "PATCH", path,
                               patch_body("status", "closed"), ""));
          set_state(steps.back(), "closed");
          steps.push_back(money_step(sessions, transfer, stats, "credit after close",
                                     StepEffect::deposit, a, -1, unit, "credit"));
          steps.push_back(money_step(sessions, transfer, stats, "transfer into a closed account",
                                     StepEffect::transfer, static_cast<size_t>(to),
                                     static_cast<int64_t>(a), unit, "into"));
          steps.push_back(step(sessions, transfer, stats, "reopen", "PATCH", path,
                               patch_body("status", "open"), ""));
          set_state(steps.back(), "open");
          if (balance > 0) {
            // The emptying transfer's key sent again after the close: the same answer, replayed.
            AccountStep replay =
                money_step(sessions, transfer, stats, "replay of the emptying transfer",
                           StepEffect::transfer, a, to, balance, "empty");
            replay.effect = StepEffect::none;  // a replay moves nothing (a new 200 is reported)
            steps.push_back(std::move(replay));
          }
          break;
        }
        default:
          break;
      }
    }
    std::lock_guard<std::mutex> lock(stripe(transfer));
    auto& k = result_.keys[transfer];
    k.answers = 1;  // the steps are the answers; api_verifier judges them
    k.originals = 1;
    k.status = 200;
    result_.account_ops[transfer].steps = std::move(steps);
  }

  std::mutex& stripe(uint32_t transfer) { return stripes_[transfer % kStripes]; }

  // The bulk action of an endpoint the plan sends to.
  static std::string action_of(const std::string& path) {
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
  const std::vector<CurrencyAccount>& extra_;
  int64_t probe_cents_;  // the credit a freeze probes with (--min-amount, in the currency)
  LoadResult& result_;
  Clock::time_point started_;
  ProgressCounters counters_;
  std::array<std::mutex, kStripes> stripes_;
  std::vector<std::atomic<uint32_t>> sends_;     // requests sent per key so far
  std::unique_ptr<std::mutex[]> account_locks_;  // per AccountSetup::extra account
};

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
  const bool limited = config.duration_limit > 0;
  const auto deadline =
      state.started() + std::chrono::milliseconds(static_cast<long>(config.duration_limit * 1000));

  // With a duration limit, retries stop a little after it too (an unreachable service must not
  // stretch the run); keys left open are then re-sent below, within their own time budget.
  const auto retry_until = deadline + std::chrono::seconds(10);
  std::atomic<size_t> next{0};
  std::atomic<bool> cut_short{false};
  const size_t per_request = config.bulk > 0 ? static_cast<size_t>(config.bulk) : 1;
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
          const size_t i = next.fetch_add(per_request);
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
          const uint64_t requests_before = mine.requests;
          const size_t end = std::min(plan.schedule.size(), i + per_request);
          std::vector<std::pair<uint32_t, bool>> keys;
          for (size_t j = i; j < end; ++j) {
            const Send& s = plan.schedule[j];
            const bool original = s.kind == SendKind::original;
            ++(original ? mine.transfers_sent : mine.duplicates_sent);
            keys.emplace_back(s.transfer, original);
          }
          if (config.bulk > 0) {
            state.send_bulk(sessions, keys, mine, limited ? &retry_until : nullptr);
          } else {
            state.send(sessions, keys.front().first, keys.front().second, mine,
                       limited ? &retry_until : nullptr);
          }
          if (config.rate > 0 && mine.requests > requests_before) {  // not a capture left unsent
            // Counted from the schedule, not from the send: a client arriving at its time waits
            // for a busy worker too (no coordinated omission).
            const auto waited =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - at).count();
            mine.scheduled_latencies_us.push_back(
                static_cast<uint32_t>(std::min<int64_t>(waited, 4'000'000'000)));
          }
          state.counters().sends_done.fetch_add(end - i, std::memory_order_relaxed);
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
