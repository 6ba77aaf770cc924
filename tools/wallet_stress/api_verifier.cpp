// The end-of-run checks through the public API.
#include "tools/wallet_stress/api_verifier.hpp"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kHistoryLimit = 1000;  // the most GET /users/{id}/transactions returns
constexpr int kMaxAttempts = 20;

struct HistoryRow {
  std::string kind;
  std::string transfer_id;
  int64_t change = 0, old_balance = 0, new_balance = 0;
};

struct AccountView {
  std::optional<int64_t> balance;
  std::optional<int64_t> available;                // release 2
  std::optional<std::vector<HistoryRow>> history;  // newest first
  std::string error;
};

std::optional<int64_t> money_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string())
    return std::nullopt;
  return domain::parse_minor_units(object[name].get<std::string>());
}

HttpAnswer get_with_retries(HttpSession& session, const std::string& path) {
  HttpAnswer answer;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    answer = session.get(path);
    if (!is_retryable(answer.status)) break;
    retry_pause(attempt);
  }
  return answer;
}

AccountView read_account(HttpSession& session, const std::string& user_id) {
  AccountView view;
  auto balance = get_with_retries(session, "/users/" + user_id + "/balance");
  const auto balance_json = nlohmann::json::parse(balance.body, nullptr, false);
  view.balance = money_field(balance_json, "balance");
  view.available = money_field(balance_json, "available_balance");
  if (balance.status != 200 || !view.balance) {
    view.balance.reset();
    view.error =
        "GET balance: " + std::to_string(balance.status) + " " + balance.body.substr(0, 200);
    return view;
  }
  auto answer = get_with_retries(
      session, "/users/" + user_id + "/transactions?limit=" + std::to_string(kHistoryLimit));
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || !parsed.is_object() || !parsed["transactions"].is_array()) {
    view.error =
        "GET transactions: " + std::to_string(answer.status) + " " + answer.body.substr(0, 200);
    return view;
  }
  std::vector<HistoryRow> rows;
  for (const auto& item : parsed["transactions"]) {
    auto change = money_field(item, "balance_change");
    auto old_balance = money_field(item, "old_balance");
    auto new_balance = money_field(item, "new_balance");
    if (!change || !old_balance || !new_balance || !item["kind"].is_string()) {
      view.error = "GET transactions: a row without kind or money fields: " + item.dump();
      return view;
    }
    rows.push_back({item["kind"].get<std::string>(),
                    item["transfer_id"].is_string() ? item["transfer_id"].get<std::string>() : "",
                    *change, *old_balance, *new_balance});
  }
  view.history = std::move(rows);
  return view;
}

bool is_error(const nlohmann::json& body, const char* code) {
  return body.is_object() && body.contains("error") && body["error"].is_object() &&
         body["error"].contains("code") && body["error"]["code"] == code;
}

// Release 2: the outcome of a hold, capture, void or withdrawal answers its request. A capture's
// transfer id joins transfer_ids (its rows are checked like a transfer's).
void check_release2_outcome(const TransferPlan& plan, const std::vector<Account>& accounts,
                            const LoadResult& load, uint32_t t, nlohmann::json body,
                            ApiVerification& out, InvariantResult& matches,
                            std::vector<std::string>& transfer_ids) {
  const auto& k = load.keys[t];
  const auto& p = plan.transfers[t];
  const std::string key = plan.key(t);
  const std::string amount = domain::format_minor_units(p.amount_minor);
  bool ok = false;
  if (!body.is_object()) body = nlohmann::json::object();  // fails every field check below
  switch (p.kind) {
    case OpKind::withdraw:
      ok = k.status == 200
               ? body["user_id"] == accounts[p.from].user_id &&
                     body["transaction_id"].is_string() && body["updated_balance"].is_string()
               : k.status == 409 && is_error(body, "insufficient_funds");
      break;
    case OpKind::hold:
      ok = k.status == 201
               ? body["from_user_id"] == accounts[p.from].user_id &&
                     body["to_user_id"] == accounts[p.to].user_id && body["amount"] == amount &&
                     body["status"] == "pending" && body["hold_id"].is_string()
               : k.status == 409 && is_error(body, "insufficient_funds");
      break;
    case OpKind::capture:
      ok = k.status == 200 && body["amount"] == amount && body["status"] == "captured" &&
           body["transfer_id"].is_string() &&
           domain::is_uuid(body["transfer_id"].get<std::string>());
      if (ok) transfer_ids[t] = *domain::normalize_uuid(body["transfer_id"].get<std::string>());
      break;
    case OpKind::void_hold:
      ok = k.status == 200 && body["status"] == "voided";
      break;
    case OpKind::transfer:
      break;
  }
  // Holds of a run do not expire during it, and each is closed once: a capture or void must win.
  if (ok) {
    ++((k.status == 409) ? out.outcomes.refused : out.outcomes.accepted);
  } else {
    ++out.outcomes.other;
    matches.fail(key + " (" + op_kind_name(p.kind) + "): " + std::to_string(k.status) + " " +
                 k.body.substr(0, 300));
  }
}

// Keys: one outcome each, and that outcome answers the request that was sent. Fills the
// accepted transfer id per key (empty when the key was not accepted).
void check_outcomes(const TransferPlan& plan, const std::vector<Account>& accounts,
                    const LoadResult& load, ApiVerification& out,
                    std::vector<std::string>& transfer_ids) {
  InvariantResult one("every key has exactly one outcome (identical answers, one original)");
  InvariantResult matches(
      "every outcome answers its request (200 transfer or 409 insufficient_funds)");
  transfer_ids.assign(plan.transfers.size(), "");
  for (size_t t = 0; t < load.keys.size(); ++t) {
    const auto& k = load.keys[t];
    if (!k.sent) continue;
    const std::string key = plan.key(static_cast<uint32_t>(t));
    if (k.answers == 0) {
      ++out.outcomes.unresolved;
      one.fail(key + ": no definitive answer after every retry");
      continue;
    }
    if (k.differing > 0) {
      one.fail(key + ": first " + std::to_string(k.status) + " " + k.body + ", later " +
               k.differing_example);
    }
    if (k.originals > 1) {
      one.fail(key + ": " + std::to_string(k.originals) +
               " answers not marked Idempotent-Replayed");
    }
    const auto& planned = plan.transfers[t];
    auto body = nlohmann::json::parse(k.body, nullptr, false);
    if (planned.kind != OpKind::transfer) {
      check_release2_outcome(plan, accounts, load, static_cast<uint32_t>(t), body, out, matches,
                             transfer_ids);
      continue;
    }
    if (k.status == 200) {
      ++out.outcomes.accepted;
      const bool ok = body.is_object() && body["transfer_id"].is_string() &&
                      domain::is_uuid(body["transfer_id"].get<std::string>()) &&
                      body["from_user_id"] == accounts[planned.from].user_id &&
                      body["to_user_id"] == accounts[planned.to].user_id &&
                      body["amount"] == domain::format_minor_units(planned.amount_minor);
      if (ok) {
        transfer_ids[t] = *domain::normalize_uuid(body["transfer_id"].get<std::string>());
      } else {
        matches.fail(key + ": 200 does not describe the transfer sent: " + k.body);
      }
    } else if (k.status == 409 && body.is_object() && body["error"].is_object() &&
               body["error"]["code"] == "insufficient_funds") {
      ++out.outcomes.refused;
    } else {
      ++out.outcomes.other;
      matches.fail(key + ": " + std::to_string(k.status) + " " + k.body.substr(0, 300));
    }
  }
  out.invariants.push_back(std::move(one));
  out.invariants.push_back(std::move(matches));
}

void check_history(const std::vector<Account>& accounts, const std::vector<AccountView>& views,
                   const TransferPlan& plan, const LoadResult& load,
                   const std::vector<std::string>& transfer_ids, ApiVerification& out) {
  InvariantResult chain("each history is a gap-free old->new chain ending at the balance");
  InvariantResult holds(
      "each history holds exactly the accepted transfers, captures and withdrawals");
  // Per account: accepted transfer id -> expected balance change.
  std::vector<std::map<std::string, int64_t>> wanted(accounts.size());
  for (size_t t = 0; t < transfer_ids.size(); ++t) {
    if (transfer_ids[t].empty()) continue;
    const auto& p = plan.transfers[t];
    wanted[p.from][transfer_ids[t]] = -p.amount_minor;
    wanted[p.to][transfer_ids[t]] = p.amount_minor;
  }
  std::vector<size_t> withdrawals(accounts.size(), 0);  // release 2: accepted, per account
  for (size_t t = 0; t < plan.transfers.size(); ++t) {
    if (plan.transfers[t].kind == OpKind::withdraw && load.keys[t].status == 200) {
      ++withdrawals[plan.transfers[t].from];
    }
  }
  size_t truncated = 0;
  for (size_t a = 0; a < accounts.size(); ++a) {
    const auto& id = accounts[a].user_id;
    if (!views[a].history || !views[a].balance) {
      chain.fail(id + ": " + views[a].error);
      continue;
    }
    const auto& rows = *views[a].history;
    const bool complete = rows.size() < static_cast<size_t>(kHistoryLimit);
    truncated += complete ? 0 : 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].old_balance + rows[i].change != rows[i].new_balance) {
        chain.fail(id + ": row " + std::to_string(i) + " old + change != new");
      }
      if (i + 1 < rows.size() && rows[i].old_balance != rows[i + 1].new_balance) {
        chain.fail(id + ": gap between rows " + std::to_string(i + 1) + " and " +
                   std::to_string(i) + " (" + domain::format_minor_units(rows[i + 1].new_balance) +
                   " -> " + domain::format_minor_units(rows[i].old_balance) + ")");
      }
    }
    const int64_t last = rows.empty() ? 0 : rows.front().new_balance;
    if (last != *views[a].balance) {
      chain.fail(id + ": newest row ends at " + domain::format_minor_units(last) + ", balance is " +
                 domain::format_minor_units(*views[a].balance));
    }
    if (complete && !rows.empty() && rows.back().old_balance != 0) {
      chain.fail(id + ": the oldest row does not start at 0.00");
    }
    // Rows of this run's accepted transfers must be right wherever they appear; counting them
    // (nothing missing, nothing extra) needs the complete history.
    size_t found = 0, transfer_rows = 0, deposits = 0, withdrawal_rows = 0;
    for (const auto& row : rows) {
      if (row.kind == "withdrawal") {
        ++withdrawal_rows;
        if (row.change >= 0 || !row.transfer_id.empty()) {
          holds.fail(id + ": a withdrawal row with change " +
                     domain::format_minor_units(row.change));
        }
        continue;
      }
      if (row.transfer_id.empty()) {
        ++deposits;
        continue;
      }
      ++transfer_rows;
      auto it = wanted[a].find(row.transfer_id);
      if (it == wanted[a].end()) continue;
      ++found;
      const char* kind = it->second < 0 ? "transfer_debit" : "transfer_credit";
      if (row.change != it->second || row.kind != kind) {
        holds.fail(id + ": transfer " + row.transfer_id + " recorded as " + row.kind + " " +
                   domain::format_minor_units(row.change));
      }
    }
    if (!complete) continue;
    if (!accounts[a].reused && withdrawal_rows != withdrawals[a]) {
      holds.fail(id + ": " + std::to_string(withdrawal_rows) + " withdrawal rows, " +
                 std::to_string(withdrawals[a]) + " withdrawals accepted");
    }
    if (found != wanted[a].size()) {
      holds.fail(id + ": " + std::to_string(wanted[a].size() - found) +
                 " accepted transfers missing from the history");
    }
    // A new user's history holds nothing but this run: its deposit and the accepted transfers.
    if (!accounts[a].reused && (transfer_rows != wanted[a].size() ||
                                deposits != (accounts[a].funded_minor > 0 ? 1u : 0u))) {
      holds.fail(id + ": " + std::to_string(transfer_rows) + " transfer rows and " +
                 std::to_string(deposits) + " deposits, expected " +
                 std::to_string(wanted[a].size()) + " and " +
                 (accounts[a].funded_minor > 0 ? "1" : "0"));
    }
  }
  if (truncated > 0) {
    const std::string text =
        std::to_string(truncated) + (truncated == 1 ? " account has" : " accounts have") +
        " at least " + std::to_string(kHistoryLimit) +
        " rows (the API's largest page); only the newest " + std::to_string(kHistoryLimit) +
        " were checked (--database-url checks all)";
    chain.note = text;
    holds.note = text;
  }
  out.invariants.push_back(std::move(chain));
  out.invariants.push_back(std::move(holds));
}

}  // namespace

ApiVerification verify_through_api(const StressConfig& config, const TransferPlan& plan,
                                   const std::vector<Account>& accounts, const LoadResult& load) {
  ApiVerification out;
  std::vector<std::string> transfer_ids;
  check_outcomes(plan, accounts, load, out, transfer_ids);

  out.expected_minor.resize(accounts.size());
  int64_t expected_total = 0;
  for (size_t a = 0; a < accounts.size(); ++a) {
    out.expected_minor[a] = accounts[a].baseline_minor + accounts[a].funded_minor;
    expected_total += out.expected_minor[a];
  }
  // Release 2: what each account holds pending (holds answered 201 and not closed by a 200).
  out.expected_held_minor.assign(accounts.size(), 0);
  int64_t withdrawn = 0;
  for (size_t t = 0; t < plan.transfers.size(); ++t) {
    const auto& p = plan.transfers[t];
    const int status = load.keys[t].status;
    if (p.kind == OpKind::hold && status == 201) out.expected_held_minor[p.from] += p.amount_minor;
    if (status != 200) continue;
    switch (p.kind) {
      case OpKind::transfer:
      case OpKind::capture:
        out.expected_minor[p.from] -= p.amount_minor;
        out.expected_minor[p.to] += p.amount_minor;
        break;
      case OpKind::withdraw:
        out.expected_minor[p.from] -= p.amount_minor;
        withdrawn += p.amount_minor;
        break;
      case OpKind::hold:
      case OpKind::void_hold:
        break;
    }
    if (p.kind == OpKind::capture || p.kind == OpKind::void_hold) {
      out.expected_held_minor[p.from] -= plan.transfers[p.hold_op].amount_minor;
    }
  }
  expected_total -= withdrawn;
  // Proves that the hold checks can fail: one account's pending holds are off by one cent.
  if (config.self_check_corrupt_holds && !out.expected_held_minor.empty()) {
    out.expected_held_minor[0] += 1;
  }
  // Proves that the balance check can fail: one expectation is off by one cent.
  if (config.self_check_corrupt && !out.expected_minor.empty()) out.expected_minor[0] += 1;

  std::vector<AccountView> views(accounts.size());
  run_parallel(accounts.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms, [&](HttpSession& session, size_t a) {
                 views[a] = read_account(session, accounts[a].user_id);
               });
  // A transfer between accounts of two owners is answered once its debit is durable; its credit
  // lands a moment later. Accounts whose balance is not yet what the answers say are read again
  // for up to --settle-wait seconds: at rest they must match, and a lasting difference still fails.
  const auto settle_until =
      Clock::now() +
      std::chrono::milliseconds(static_cast<long>(config.settle_wait_seconds * 1000));
  for (;;) {
    std::vector<size_t> unsettled;
    for (size_t a = 0; a < accounts.size(); ++a) {
      if (views[a].balance && *views[a].balance != out.expected_minor[a]) unsettled.push_back(a);
    }
    if (unsettled.empty() || Clock::now() >= settle_until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    run_parallel(unsettled.size(), config.concurrency, config.transaction_services,
                 config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                   views[unsettled[i]] = read_account(session, accounts[unsettled[i]].user_id);
                 });
  }

  InvariantResult balances("each balance = funding + credits - debits of its 200 answers");
  InvariantResult conserved(
      "money conserved: sum of balances = starting balances + funding - withdrawals");
  InvariantResult available("available balance = balance - pending holds, per account (release 2)");
  InvariantResult non_negative("no negative balance");
  int64_t total = 0;
  for (size_t a = 0; a < accounts.size(); ++a) {
    const auto& id = accounts[a].user_id;
    if (!views[a].balance) {
      balances.fail(id + ": " + views[a].error);
      conserved.fail(id + ": balance unknown");
      continue;
    }
    const int64_t balance = *views[a].balance;
    total += balance;
    if (balance != out.expected_minor[a]) {
      balances.fail(id + ": balance " + domain::format_minor_units(balance) + ", expected " +
                    domain::format_minor_units(out.expected_minor[a]));
    }
    if (balance < 0) non_negative.fail(id + ": " + domain::format_minor_units(balance));
    // Holds an earlier run left pending on a reused account are not known here: new users only.
    if (!accounts[a].reused &&
        (!views[a].available || *views[a].available != balance - out.expected_held_minor[a])) {
      available.fail(id + ": available " +
                     (views[a].available ? domain::format_minor_units(*views[a].available)
                                         : std::string("missing")) +
                     ", balance " + domain::format_minor_units(balance) + " - held " +
                     domain::format_minor_units(out.expected_held_minor[a]));
    }
  }
  if (conserved.passed && total != expected_total) {
    conserved.fail("balances add up to " + domain::format_minor_units(total) + ", funding to " +
                   domain::format_minor_units(expected_total));
  }
  out.invariants.push_back(std::move(balances));
  out.invariants.push_back(std::move(conserved));
  out.invariants.push_back(std::move(non_negative));
  out.invariants.push_back(std::move(available));
  check_history(accounts, views, plan, load, transfer_ids, out);
  return out;
}

}  // namespace wallet::stress
