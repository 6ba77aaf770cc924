// The load phase's account operations (--currencies): an overdraft, freeze or close as a short
// sequence of requests, each step retried on 429/503 and recorded for the verifier.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/currency.hpp"
#include "domain/json_spans.hpp"
#include "tools/wallet_stress/load_state_internal.hpp"

namespace wallet::stress::load_internal {

// One request of an account operation, retried on 429/503/no answer (money steps
// with their own key, so a retry is safe; PATCH sets a state, so repeating it is too).
AccountStep LoadState::step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                            const char* what, const char* method, const std::string& path,
                            const std::string& body, const std::string& key) {
  AccountStep s;
  s.what = what;
  s.request = std::string(method) + " " + path + (body.empty() ? "" : " " + body);
  for (int attempt = 1;; ++attempt) {
    const size_t instance = instance_for(transfer, sessions.size());
    auto& session = sessions.at(instance);
    HttpAnswer answer = std::string(method) == "GET"     ? session.get(path)
                        : std::string(method) == "PATCH" ? session.patch(path, body)
                                                         : session.post(path, body, key);
    count_request(stats, instance, answer);
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
AccountStep LoadState::money_step(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
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

std::string LoadState::patch_body(const char* field, const std::string& value) {
  return nlohmann::json{{field, value}}.dump();
}
bool LoadState::answered_status(const AccountStep& s, const char* status) {
  auto body = nlohmann::json::parse(s.body, nullptr, false);
  return s.status == 200 && body.is_object() && body["status"] == status;
}

// Records the status (and the overdraft line) a PATCH answered 200 with `status` left account `a`
// with.
void LoadState::set_state(size_t a, const AccountStep& s, const char* status) {
  if (!answered_status(s, status)) return;
  result_.status[a] = status;
  auto body = nlohmann::json::parse(s.body, nullptr, false);
  auto line = body["overdraft_limit"].is_string()
                  ? domain::parse_stored_minor(body["overdraft_limit"].get<std::string>(),
                                               extra_[a].exponent)
                  : std::nullopt;
  if (line) result_.line_minor[a] = *line;
}

// A freeze: every kind of money step is tried while frozen (a credit is let in), then unfrozen.
void LoadState::freeze_steps(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                             const std::string& path, std::vector<AccountStep>& steps) {
  const size_t a = plan_.transfers[transfer].from;
  const auto& account = extra_[a];
  const int64_t unit = 1;  // one minor unit
  const int64_t credit = scale_to_currency(probe_cents_, account.exponent);
  // A peer of the same currency to send the probes to.
  int64_t peer = -1;
  for (size_t p = 0; p < extra_.size() && peer < 0; ++p) {
    if (p != a && !extra_[p].closable && extra_[p].currency == account.currency) {
      peer = static_cast<int64_t>(p);
    }
  }
  steps.push_back(
      step(sessions, transfer, stats, "freeze", "PATCH", path, patch_body("status", "frozen"), ""));
  set_state(a, steps.back(), "frozen");
  steps.push_back(money_step(sessions, transfer, stats, "debit while frozen", StepEffect::withdraw,
                             a, -1, unit, "withdraw"));
  steps.push_back(money_step(sessions, transfer, stats, "hold while frozen", StepEffect::hold, a,
                             peer, unit, "hold"));
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
  steps.push_back(money_step(sessions, transfer, stats, "credit while frozen", StepEffect::deposit,
                             a, -1, credit, "credit"));
  steps.push_back(
      step(sessions, transfer, stats, "unfreeze", "PATCH", path, patch_body("status", "open"), ""));
  set_state(a, steps.back(), "open");
}

// A close: refused while the account holds money, accepted once emptied; then a credit and a
// transfer into it are refused, it reopens, and the emptying transfer's key is replayed.
void LoadState::close_steps(InstanceSessions& sessions, uint32_t transfer, RunStats& stats,
                            const std::string& path, std::vector<AccountStep>& steps) {
  const auto& t = plan_.transfers[transfer];
  const size_t a = t.from;
  const auto& account = extra_[a];
  const int64_t unit = 1;  // one minor unit
  const auto to = static_cast<int64_t>(t.to);
  steps.push_back(step(sessions, transfer, stats, "close while holding money", "PATCH", path,
                       patch_body("status", "closed"), ""));
  set_state(a, steps.back(), "closed");
  steps.push_back(step(sessions, transfer, stats, "read", "GET", path, "", ""));
  auto read = nlohmann::json::parse(steps.back().body, nullptr, false);
  // What it holds (0 when unreadable: the read step is reported then).
  const int64_t balance =
      steps.back().status == 200 && read.is_object() && read["balance"].is_string()
          ? domain::parse_stored_minor(read["balance"].get<std::string>(), account.exponent)
                .value_or(0)
          : 0;
  if (balance > 0) {
    steps.push_back(money_step(sessions, transfer, stats, "empty", StepEffect::transfer, a, to,
                               balance, "empty"));
  }
  steps.push_back(
      step(sessions, transfer, stats, "close", "PATCH", path, patch_body("status", "closed"), ""));
  set_state(a, steps.back(), "closed");
  steps.push_back(money_step(sessions, transfer, stats, "credit after close", StepEffect::deposit,
                             a, -1, unit, "credit"));
  steps.push_back(money_step(sessions, transfer, stats, "transfer into a closed account",
                             StepEffect::transfer, static_cast<size_t>(to), static_cast<int64_t>(a),
                             unit, "into"));
  steps.push_back(
      step(sessions, transfer, stats, "reopen", "PATCH", path, patch_body("status", "open"), ""));
  set_state(a, steps.back(), "open");
  if (balance > 0) {
    // The emptying transfer's key sent again after the close: the same answer, replayed.
    AccountStep replay = money_step(sessions, transfer, stats, "replay of the emptying transfer",
                                    StepEffect::transfer, a, to, balance, "empty");
    replay.effect = StepEffect::none;  // a replay moves nothing (a new 200 is reported)
    steps.push_back(std::move(replay));
  }
}

// An overdraft, freeze or close, one at a time per account (a client-side lock), so
// that the driver knows the line and status each account was left with.
void LoadState::run_account_op(InstanceSessions& sessions, uint32_t transfer, bool original,
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
  {
    std::lock_guard<std::mutex> held(account_locks_[a]);
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
      case OpKind::freeze:
        freeze_steps(sessions, transfer, stats, path, steps);
        break;
      case OpKind::close:
        close_steps(sessions, transfer, stats, path, steps);
        break;
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

}  // namespace wallet::stress::load_internal
