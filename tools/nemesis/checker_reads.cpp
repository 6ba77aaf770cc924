// Balance reads against a linearization (tools/nemesis/checker.hpp, property stale-read).
//
// Linearizability is local (Herlihy and Wing): a history is linearizable iff each object's is, so
// each account is checked on its own. The order of an account's states is not guessed: the ledger
// chains its rows in the order its actor applied them (seq, old_balance -> new_balance, checked by
// check_ledger), so the account passes through s0 = 0, s1, ..., sn in that order and no other.
// What is not known exactly is when each row committed; it is bounded by the op that wrote it:
//   start(k) >= invocation of row k's op (nothing commits before it was asked for)
//   row k's commit <= completion of its op, when the op was acknowledged and the row is one the
//   answer waited for; +infinity otherwise (a credit in transit to another owner, a posting
//   settled after the answer, a row no op explains).
// State k is visible during (start(k), end(k)) with end(k) = the commit bound of row k + 1. A read
// invoked at a and answered at b returning v is explained iff some state k with s_k = v has
// start(k) < b and a < end(k). Otherwise it is a stale read (the value was gone before the read
// began), a read from the future, or a value the account never held. Sound: every read it flags
// is one no linearization consistent with the ledger's own order explains.
#include <climits>
#include <unordered_map>

#include "domain/money.hpp"
#include "tools/nemesis/checker.hpp"
#include "tools/nemesis/client_ops.hpp"

namespace wallet::nemesis {
namespace {

struct State {
  int64_t value = 0;
  int64_t start = LLONG_MIN;
  int64_t end = LLONG_MAX;
};

// Whether a row commits before its op's answer: the debit of a transfer or capture (the answer
// comes after it is durable), a credit committed in the same transaction as that debit, a deposit
// or withdrawal, and the rows of a transaction all committed at once.
bool answer_waits_for(const LedgerRow& row, const std::vector<const LedgerRow*>& effect_rows) {
  if (row.transfer_id.empty() && row.transaction_id.empty()) return true;
  for (const LedgerRow* other : effect_rows) {
    if (other->commit != row.commit) {
      if (!row.transfer_id.empty() && row.change < 0) return true;  // the debit
      return false;
    }
  }
  return true;
}

std::unordered_map<std::string, std::vector<State>> account_states(const std::vector<Op>& ops,
                                                                   const Snapshot& snapshot) {
  std::unordered_map<std::string, const Op*> op_of_effect;
  for (const ExpectedEffect& e : expected_effects(ops)) op_of_effect.emplace(e.key, e.op);
  std::unordered_map<std::string, std::vector<const LedgerRow*>> rows_of_effect;
  for (const LedgerRow& row : snapshot.rows) rows_of_effect[effect_key(row)].push_back(&row);

  std::unordered_map<std::string, std::vector<State>> states;
  for (const AccountState& a : snapshot.accounts) states[a.id].push_back(State{});
  for (const LedgerRow& row : snapshot.rows) {
    std::vector<State>& chain = states[row.account];
    if (chain.empty()) chain.push_back(State{});
    const std::string key = effect_key(row);
    auto found = op_of_effect.find(key);
    const Op* op = found == op_of_effect.end() ? nullptr : found->second;
    int64_t commit_bound = LLONG_MAX;
    if (op && op->complete_ns > 0 && answer_waits_for(row, rows_of_effect[key]))
      commit_bound = op->complete_ns;
    chain.back().end = commit_bound;
    State next;
    next.value = row.new_balance;
    next.start = op ? op->invoke_ns : LLONG_MIN;
    chain.push_back(next);
  }
  return states;
}

}  // namespace

void check_reads(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result) {
  const auto states = account_states(ops, snapshot);
  std::unordered_map<std::string, std::unordered_map<int64_t, std::vector<size_t>>> by_value;
  for (const auto& [account, chain] : states) {
    auto& index = by_value[account];
    for (size_t k = 0; k < chain.size(); ++k) index[chain[k].value].push_back(k);
  }
  for (const Op& read : ops) {
    if (read.f != "read" || read.outcome != "ok") continue;
    const std::string account = read.args.at("account");
    const std::string text = answer_text(read, "balance");
    const auto value = domain::parse_minor_units(text);
    ++result.reads_checked;
    auto chain = states.find(account);
    if (!value || chain == states.end()) {
      result.anomalies.push_back({"stale-read", "read op " + std::to_string(read.id) + " of " +
                                                    account + " answered '" + text +
                                                    "', not a balance of a known account"});
      continue;
    }
    bool held = false, explained = false, future = true;
    // Only the states holding the value read (an hour's run has tens of thousands per account).
    auto holding = by_value.at(account).find(*value);
    const std::vector<size_t> none;
    for (size_t k : holding == by_value.at(account).end() ? none : holding->second) {
      const State& s = chain->second[k];
      held = true;
      if (s.start < read.complete_ns && read.invoke_ns < s.end) {
        explained = true;
        break;
      }
      if (s.start < read.complete_ns) future = false;
    }
    if (explained) continue;
    const std::string what =
        !held    ? "a balance the account never held"
        : future ? "a balance from the future (written by an op invoked after the read answered)"
                 : "a stale balance (replaced before the read was invoked)";
    result.anomalies.push_back({"stale-read",
                                "read op " + std::to_string(read.id) + " of " + account +
                                    " by client " + std::to_string(read.client) + " answered " +
                                    text + (read.instance.empty() ? "" : " from " + read.instance) +
                                    ": " + what,
                                read.invoke_ns});
  }
}

}  // namespace wallet::nemesis
