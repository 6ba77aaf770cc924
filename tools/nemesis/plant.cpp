// Planted defects for the checker's negative controls (tools/nemesis/plant.hpp).
#include "tools/nemesis/plant.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "domain/money.hpp"
#include "tools/nemesis/checker.hpp"

namespace wallet::nemesis {
namespace {

AccountState& account(Snapshot& snapshot, const std::string& id) {
  for (AccountState& a : snapshot.accounts) {
    if (a.id == id) return a;
  }
  throw std::runtime_error("no account " + id);
}

std::string plant_lost_write(std::vector<Op>& ops, Snapshot& snapshot) {
  for (const ExpectedEffect& e : expected_effects(ops)) {
    if (e.op->f != "deposit") continue;
    auto row = std::find_if(snapshot.rows.begin(), snapshot.rows.end(),
                            [&](const LedgerRow& r) { return effect_key(r) == e.key; });
    if (row == snapshot.rows.end()) continue;
    const std::string owner = row->account;
    const int64_t amount = row->change;
    for (auto later = row + 1; later != snapshot.rows.end(); ++later) {
      if (later->account != owner) continue;
      later->old_balance -= amount;
      later->new_balance -= amount;
    }
    account(snapshot, owner).balance -= amount;
    snapshot.rows.erase(row);
    return "removed the row of acknowledged deposit op " + std::to_string(e.op->id);
  }
  throw std::runtime_error("lost-write: no acknowledged deposit with a row to remove");
}

std::string plant_doubled_credit(std::vector<Op>& ops, Snapshot& snapshot) {
  for (const ExpectedEffect& e : expected_effects(ops)) {
    if (e.op->f != "transfer") continue;
    auto credit = std::find_if(snapshot.rows.begin(), snapshot.rows.end(), [&](const LedgerRow& r) {
      return effect_key(r) == e.key && r.change > 0;
    });
    if (credit == snapshot.rows.end()) continue;
    LedgerRow twice = *credit;
    AccountState& payee = account(snapshot, twice.account);
    twice.id = "00000000-0000-4000-8000-00000000d0b1";
    twice.seq = snapshot.rows.back().seq + 1;
    twice.old_balance = payee.balance;
    twice.new_balance = payee.balance + twice.change;
    twice.commit = "planted";
    payee.balance = twice.new_balance;
    snapshot.rows.push_back(twice);
    return "credited transfer op " + std::to_string(e.op->id) + " a second time";
  }
  throw std::runtime_error("doubled-credit: no acknowledged transfer with a credit row");
}

std::string plant_stale_read(std::vector<Op>& ops, Snapshot& snapshot) {
  // A balance the account held just before an acknowledged deposit or withdrawal (whose row the
  // answer waited for, so that balance was gone once the op completed), and never again after:
  // a read of it invoked after every op completed is stale whatever the timing.
  int64_t last = 0;
  for (const Op& op : ops) last = std::max({last, op.invoke_ns, op.complete_ns});
  std::set<std::string> acknowledged;
  for (const ExpectedEffect& e : expected_effects(ops)) {
    if (e.op->f == "deposit" || e.op->f == "withdraw") acknowledged.insert(e.key);
  }
  for (size_t i = 0; i < snapshot.rows.size(); ++i) {
    const LedgerRow& row = snapshot.rows[i];
    if (!acknowledged.count(effect_key(row))) continue;
    bool seen_again = false;
    for (size_t j = i; j < snapshot.rows.size() && !seen_again; ++j) {
      seen_again = snapshot.rows[j].account == row.account &&
                   snapshot.rows[j].new_balance == row.old_balance;
    }
    if (seen_again) continue;
    Op read;
    read.id = max_op_id(ops) + 1;
    read.client = 99;
    read.f = "read";
    read.args = {{"account", row.account}, {"planted", true}};
    read.invoke_ns = last + 1000000000;
    read.complete_ns = read.invoke_ns + 1000000;
    read.outcome = "ok";
    read.status = 200;
    read.body = {{"user_id", row.account},
                 {"balance", domain::format_minor_units(row.old_balance)}};
    ops.push_back(read);
    return "read of " + row.account + " answered " + domain::format_minor_units(row.old_balance) +
           ", its balance before row " + row.id + ", after everything settled";
  }
  throw std::runtime_error(
      "stale-read: no acknowledged deposit or withdrawal left a balance behind for good");
}

}  // namespace

std::string plant(const std::string& defect, std::vector<Op>& ops, Snapshot& snapshot) {
  if (defect == "lost-write") return plant_lost_write(ops, snapshot);
  if (defect == "doubled-credit") return plant_doubled_credit(ops, snapshot);
  if (defect == "stale-read") return plant_stale_read(ops, snapshot);
  throw std::invalid_argument("unknown defect " + defect +
                              " (lost-write, doubled-credit, stale-read)");
}

std::string property_caught_by(const std::string& defect) {
  if (defect == "lost-write") return "lost-write";
  if (defect == "doubled-credit") return "applied-twice";
  return "stale-read";
}

}  // namespace wallet::nemesis
