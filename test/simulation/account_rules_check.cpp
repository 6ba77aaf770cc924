#include "test/simulation/account_rules_check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "domain/money.hpp"
#include "test/simulation/committed_state.hpp"

namespace wallet::simulation {
namespace {

using persistence::AccountStatus;
using persistence::EntryKind;

std::string tail(const std::string& id) { return id.size() > 24 ? id.substr(24) : id; }
std::string money(int64_t minor) { return domain::format_minor_units(minor); }
std::string client(const ClientOp& op) {
  return "client #" + std::to_string(op.id) + " (" + endpoint(op.kind) + " " + tail(op.from) + ")";
}

// The change an account update asks for, as a key: account, status, line.
std::string signature(const std::string& account, const std::optional<std::string>& status,
                      const std::optional<int64_t>& limit) {
  return account + " status=" + status.value_or("-") +
         " overdraft_limit=" + (limit ? money(*limit) : std::string("-"));
}

std::string error_code(const actors::Reply& reply) {
  auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("error")) return "";
  const auto& error = doc["error"];
  if (!error.is_object() || !error.contains("code") || !error["code"].is_string()) return "";
  return error["code"].get<std::string>();
}

}  // namespace

std::vector<std::string> check_rules_held(const ModelState& state) {
  std::vector<std::string> failures;
  for (const auto& [account, balance] : state.balances) {
    const auto rules = state.rules_of(account);
    int64_t held = 0;
    for (const auto& [id, hold] : state.holds) {
      if (hold.from_user_id == account && hold.status == "pending") held += hold.amount;
    }
    const std::string who =
        "account " + tail(account) + " (commit " + std::to_string(state.commits) + ")";
    if (rules.overdraft_limit < 0) failures.push_back(who + " has a negative overdraft line");
    if (balance < -rules.overdraft_limit) {
      failures.push_back(who + " holds " + money(balance) + ", below its overdraft line of " +
                         money(rules.overdraft_limit));
    }
    if (held > balance + rules.overdraft_limit) {
      failures.push_back(who + " has " + money(held) + " held, beyond its balance " +
                         money(balance) + " and line " + money(rules.overdraft_limit));
    }
    if (rules.status != AccountStatus::closed) continue;
    const bool in_transit = std::any_of(
        state.in_transit.begin(), state.in_transit.end(),
        [&account = account](const auto& leg) { return leg.second.to_user_id == account; });
    if (balance != 0 || held != 0 || in_transit) {
      failures.push_back(who + " is closed but holds " + money(balance) + " with " + money(held) +
                         " held" + (in_transit ? " and a credit in transit to it" : ""));
    }
  }
  return failures;
}

std::vector<std::string> check_rules_order(const ModelState& state,
                                           const std::map<std::string, ModelRules>& initial) {
  std::vector<std::string> failures;
  const Committed committed(state, initial);
  auto where = [](const CommitPoint& at) {
    return " (commit " + std::to_string(at.commit) + ", mutation " + std::to_string(at.position) +
           ")";
  };
  for (const auto& row : state.rows) {
    const auto& e = row.entry;
    const auto status = committed.rules_before(e.user_id, row.at).status;
    const bool debit = e.change < 0;  // transfer_debit, withdrawal, posting_debit
    if (status == AccountStatus::closed || (status == AccountStatus::frozen && debit)) {
      failures.push_back(std::string("a ") + persistence::entry_kind_name(e.kind) + " row of " +
                         money(e.change) + " committed on account " + tail(e.user_id) +
                         " while it was " + persistence::account_status_name(status) +
                         where(row.at));
    }
  }
  for (const auto& [hold_id, at] : state.hold_created) {
    const auto& hold = state.holds.at(hold_id);
    const auto status = committed.rules_before(hold.from_user_id, at).status;
    if (status != AccountStatus::open) {
      failures.push_back("hold " + hold_id + " of " + money(hold.amount) +
                         " committed on account " + tail(hold.from_user_id) + " while it was " +
                         persistence::account_status_name(status) + where(at));
    }
  }
  return failures;
}

std::vector<std::string> check_update_answers(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                              const ModelState& state,
                                              const std::set<uint64_t>& foreign) {
  std::vector<std::string> failures;
  std::map<std::string, std::vector<uint64_t>> committed;  // signature -> commits, in order
  for (const auto& change : state.rules_log) {
    if (foreign.count(change.at.commit)) continue;
    committed[signature(change.account_id, change.status, change.overdraft_limit)].push_back(
        change.at.commit);
  }
  std::map<std::string, std::vector<const ClientOp*>> told;  // signature -> answered 200
  for (const auto& op : ops) {
    if (!updates_account(op->kind) || op->replies != 1 || op->reply.status() != 200) continue;
    told[signature(op->from, requested_status(op->kind), requested_limit(*op))].push_back(op.get());
  }
  // Per change asked for, each 200 takes the earliest change not taken that committed while it
  // was being handled (answers taken in the order they were given: a matching exists iff this
  // finds one).
  std::set<std::string> signatures;
  for (const auto& [sig, commits] : committed) signatures.insert(sig);
  for (const auto& [sig, answers] : told) signatures.insert(sig);
  for (const auto& sig : signatures) {
    auto commits = committed[sig];
    auto answers = told[sig];
    std::stable_sort(answers.begin(), answers.end(), [](const ClientOp* a, const ClientOp* b) {
      return a->answered_commit < b->answered_commit;
    });
    std::vector<bool> taken(commits.size(), false);
    for (const auto* op : answers) {
      bool found = false;
      for (size_t i = 0; i < commits.size() && !found; ++i) {
        if (taken[i] || commits[i] <= op->sent_commit || commits[i] > op->answered_commit) continue;
        taken[i] = found = true;
      }
      if (!found) {
        failures.push_back(client(*op) + " was told 200 but no change " + sig +
                           " committed while it was handled (commits " +
                           std::to_string(op->sent_commit) + ".." +
                           std::to_string(op->answered_commit) + ")");
      }
    }
    for (size_t i = 0; i < commits.size(); ++i) {
      if (!taken[i]) {
        failures.push_back("the change " + sig + " committed (commit " +
                           std::to_string(commits[i]) + ") but nobody was told 200");
      }
    }
  }
  return failures;
}

std::vector<std::string> check_rules_refusals(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                              const ModelState& state,
                                              const std::map<std::string, ModelRules>& initial,
                                              const std::function<bool(const ClientOp&)>& excused) {
  std::vector<std::string> failures;
  const Committed committed(state, initial);
  for (const auto& op : ops) {
    if (op->replies != 1 || op->reply.status() != 409 || op->reply.replayed) continue;
    if (posts(op->kind)) continue;  // transaction_check: the account its refusal names
    const std::string code = error_code(op->reply);
    if (code != "account_frozen" && code != "account_closed" && code != "account_not_empty" &&
        code != "limit_below_debt") {
      continue;
    }
    if (excused(*op)) continue;
    // Duplicates of a key under way share its one decision: the window opens at the first of
    // them still waiting when this one was sent.
    uint64_t from = op->sent_commit;
    if (op->tag) {
      for (const auto& other : ops) {
        if (other->tag && other->tag->endpoint == op->tag->endpoint &&
            other->tag->key == op->tag->key && other->sent_step <= op->sent_step &&
            (other->replies == 0 || other->answered_step >= op->sent_step)) {
          from = std::min(from, other->sent_commit);
        }
      }
    }
    // The account the refusal names: the payee's closing refuses a credit.
    const std::string& named =
        !op->to.empty() && op->reply.body().find(op->to) != std::string::npos ? op->to : op->from;
    auto some_commit = [&](const std::function<bool(uint64_t)>& held) {
      for (uint64_t k = from; k <= op->answered_commit; ++k) {
        if (held(k)) return true;
      }
      return false;
    };
    bool justified = false;
    if (code == "account_frozen" || code == "account_closed") {
      const auto status = code == "account_frozen" ? AccountStatus::frozen : AccountStatus::closed;
      justified =
          some_commit([&](uint64_t k) { return committed.rules_after(named, k).status == status; });
    } else if (code == "account_not_empty") {
      justified = some_commit([&](uint64_t k) {
        return committed.balance_after(named, k) != 0 || committed.held_after(named, k) > 0;
      });
    } else {
      justified = some_commit([&](uint64_t k) {
        const int64_t covered = committed.balance_after(named, k) + op->amount;
        return covered < 0 || covered < committed.held_after(named, k);
      });
    }
    if (!justified) {
      failures.push_back(client(*op) + " was refused " + code + " for account " + tail(named) +
                         " but Postgres never held that while it was handled (commits " +
                         std::to_string(from) + ".." + std::to_string(op->answered_commit) +
                         "): " + op->reply.body());
    }
  }
  return failures;
}

}  // namespace wallet::simulation
