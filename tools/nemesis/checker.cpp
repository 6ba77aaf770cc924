// Exactly once, no phantom, the ledger's chain and money conservation (tools/nemesis/checker.hpp).
#include "tools/nemesis/checker.hpp"

#include <algorithm>
#include <unordered_map>

#include "domain/money.hpp"
#include "tools/nemesis/client_ops.hpp"

namespace wallet::nemesis {
namespace {

const std::string kWorld = "@world";

std::string money_text(int64_t minor) { return domain::format_minor_units(minor); }

std::string describe(const Op& op) {
  return "op " + std::to_string(op.id) + " " + op.f + " key " + op.key + " " + op.args.dump();
}

}  // namespace

int CheckResult::count(const std::string& property) const {
  return static_cast<int>(std::count_if(anomalies.begin(), anomalies.end(),
                                        [&](const Anomaly& a) { return a.property == property; }));
}

std::vector<ExpectedEffect> expected_effects(const std::vector<Op>& ops) {
  std::vector<ExpectedEffect> effects;
  for (const Op& op : ops) {
    if (op.outcome != "ok") continue;
    const nlohmann::json& a = op.args;
    ExpectedEffect e;
    e.op = &op;
    if (op.f == "deposit" || op.f == "withdraw") {
      const int64_t amount = minor_units(a.at("amount"));
      e.key = "row:" + answer_text(op, "transaction_id");
      e.legs = {{a.at("account"), op.f == "deposit" ? amount : -amount}};
    } else if (op.f == "transfer" || op.f == "capture") {
      // A capture moves what its answer says it captured (all of the hold unless told less).
      const int64_t amount = minor_units(op.f == "capture" ? answer_text(op, "amount")
                                                           : a.at("amount").get<std::string>());
      e.key = "tr:" + answer_text(op, "transfer_id");
      e.legs = {{a.at("from"), -amount}, {a.at("to"), amount}};
    } else if (op.f == "post") {
      e.key = "tx:" + answer_text(op, "transaction_id");
      for (const auto& p : a.at("postings")) {
        const int64_t amount = minor_units(p.at("amount"));
        if (p.at("from") != kWorld) e.legs.emplace_back(p.at("from"), -amount);
        if (p.at("to") != kWorld) e.legs.emplace_back(p.at("to"), amount);
      }
    } else {
      continue;  // holds, voids and reads move no money
    }
    effects.push_back(std::move(e));
  }
  return effects;
}

// Every acknowledged op's rows exactly once; every row explained by an acknowledged op.
void check_effects(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result) {
  std::unordered_map<std::string, std::vector<const LedgerRow*>> rows_by_effect;
  for (const LedgerRow& row : snapshot.rows) rows_by_effect[effect_key(row)].push_back(&row);
  result.rows_checked = static_cast<int>(snapshot.rows.size());
  std::unordered_map<std::string, int> claimed;
  for (const ExpectedEffect& e : expected_effects(ops)) {
    if (++claimed[e.key] > 1) {
      result.anomalies.push_back(
          {"applied-twice", "two acknowledged ops answered with one id " + e.key});
      continue;
    }
    auto want = e.legs;
    std::vector<std::pair<std::string, int64_t>> have;
    for (const LedgerRow* row : rows_by_effect[e.key]) have.emplace_back(row->account, row->change);
    std::sort(want.begin(), want.end());
    std::sort(have.begin(), have.end());
    if (want == have) continue;
    if (have.empty()) {
      result.anomalies.push_back(
          {"lost-write", "acknowledged, no row: " + describe(*e.op), e.op->invoke_ns});
    } else if (have.size() > want.size()) {
      result.anomalies.push_back({"applied-twice",
                                  std::to_string(have.size()) + " rows where " +
                                      std::to_string(want.size()) + " belong: " + describe(*e.op),
                                  e.op->invoke_ns});
    } else {
      result.anomalies.push_back({"lost-write",
                                  std::to_string(have.size()) + " of " +
                                      std::to_string(want.size()) +
                                      " rows (or other amounts): " + describe(*e.op),
                                  e.op->invoke_ns});
    }
  }
  for (const auto& [key, rows] : rows_by_effect) {
    if (claimed.count(key)) continue;
    result.anomalies.push_back(
        {"phantom", std::to_string(rows.size()) + " row(s) " + key +
                        " (first: " + rows.front()->kind + " " + money_text(rows.front()->change) +
                        " on " + rows.front()->account + ") that no acknowledged op explains"});
  }
  for (const Op& op : ops) {
    if (op.f == "read") continue;
    ++result.ops_checked;
    ++result.ops_by_outcome[op.f + " " + (op.outcome.empty() ? "never-completed" : op.outcome)];
    if (op.resolved) ++result.resolved_by_key;
    if (op.outcome != "ok" && op.outcome != "fail") {
      result.anomalies.push_back(
          {"unresolved", "outcome still unknown after the heal: " + describe(op), op.invoke_ns});
    }
  }
}

// Per account: rows chain in seq order from 0, the balance is the last row's, never below zero.
void check_ledger(const Snapshot& snapshot, CheckResult& result) {
  std::unordered_map<std::string, int64_t> running;
  for (const LedgerRow& row : snapshot.rows) {
    int64_t& balance = running[row.account];
    if (row.old_balance != balance || row.old_balance + row.change != row.new_balance ||
        row.new_balance < 0) {
      result.anomalies.push_back(
          {"ledger-chain", "row " + row.id + " seq " + std::to_string(row.seq) + " of " +
                               row.account + ": old " + money_text(row.old_balance) + " + " +
                               money_text(row.change) + " = " + money_text(row.new_balance) +
                               ", previous new " + money_text(balance)});
    }
    balance = row.new_balance;
  }
  for (const AccountState& account : snapshot.accounts) {
    const int64_t last = running.count(account.id) ? running[account.id] : 0;
    if (account.balance != last || account.balance < 0) {
      result.anomalies.push_back({"ledger-chain", "account " + account.id + " balance " +
                                                      money_text(account.balance) +
                                                      ", its rows say " + money_text(last)});
    }
  }
}

// Per currency: what came in from outside, less what went out, is in the accounts or in transit,
// by the database's own rows and by what the clients were told.
void check_conservation(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result) {
  std::map<std::string, int64_t> held, external_rows, acknowledged;
  std::unordered_map<std::string, std::string> currency_of;
  for (const AccountState& a : snapshot.accounts) {
    held[a.currency] += a.balance;
    currency_of[a.id] = a.currency;
  }
  for (const auto& [currency, amount] : snapshot.in_transit) held[currency] += amount;
  for (const LedgerRow& row : snapshot.rows) {
    if (row.kind == "deposit" || row.kind == "withdrawal")
      external_rows[row.currency] += row.change;
  }
  for (const Op& op : ops) {
    if (op.outcome != "ok") continue;
    if (op.f == "deposit" || op.f == "withdraw") {
      const int64_t amount = minor_units(op.args.at("amount"));
      acknowledged[currency_of[op.args.at("account")]] += op.f == "deposit" ? amount : -amount;
    } else if (op.f == "post") {
      for (const auto& p : op.args.at("postings")) {
        if (p.at("from") == kWorld) acknowledged[p.at("currency")] += minor_units(p.at("amount"));
        if (p.at("to") == kWorld) acknowledged[p.at("currency")] -= minor_units(p.at("amount"));
      }
    }
  }
  std::map<std::string, int> currencies;
  for (const auto* m : {&held, &external_rows, &acknowledged}) {
    for (const auto& entry : *m) currencies[entry.first] = 1;
  }
  for (const auto& entry : currencies) {
    const std::string& c = entry.first;
    if (held[c] == external_rows[c] && held[c] == acknowledged[c]) continue;
    result.anomalies.push_back(
        {"money-conserved", c + ": accounts + in transit " + money_text(held[c]) +
                                ", deposits - withdrawals in the ledger " +
                                money_text(external_rows[c]) + ", acknowledged to clients " +
                                money_text(acknowledged[c])});
  }
}

CheckResult check(const std::vector<Op>& ops, const Snapshot& snapshot) {
  CheckResult result;
  check_effects(ops, snapshot, result);
  check_ledger(snapshot, result);
  check_conservation(ops, snapshot, result);
  check_reads(ops, snapshot, result);
  return result;
}

}  // namespace wallet::nemesis
