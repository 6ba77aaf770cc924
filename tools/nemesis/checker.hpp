// The checker of a nemesis run: the history (every op with its invocation and completion) against
// the final database. One function per property, each with a negative control (plant.hpp):
//   lost-write         an acknowledged op whose ledger rows are missing (not durable)
//   applied-twice      an op whose rows appear more than once (a doubled credit)
//   phantom            rows no acknowledged op explains (applied though nobody asked, or refused)
//   unresolved         an op whose outcome stayed unknown even after the heal and its key's replay
//   ledger-chain       an account whose rows do not chain (old + change = new, one after another)
//                      or whose balance is not its last row's, or below zero
//   money-conserved    per currency: balances + in transit = deposits - withdrawals, in the
//                      database and in the acknowledged ops
//   stale-read         a balance read no linearization explains (see checker_reads.cpp)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/nemesis/history.hpp"
#include "tools/nemesis/snapshot.hpp"

namespace wallet::nemesis {

struct Anomaly {
  std::string property;
  std::string detail;
  int64_t at_ns = 0;  // when the op involved was invoked (0: none), to place it among the faults
};

struct CheckResult {
  std::map<std::string, int> ops_by_outcome;  // "transfer ok" -> n
  int ops_checked = 0;
  int resolved_by_key = 0;
  int rows_checked = 0;
  int reads_checked = 0;
  std::vector<Anomaly> anomalies;
  int count(const std::string& property) const;
};

// The effect an acknowledged op must have left: its rows' key and (account, change) legs.
struct ExpectedEffect {
  std::string key;
  std::vector<std::pair<std::string, int64_t>> legs;
  const Op* op = nullptr;
};
std::vector<ExpectedEffect> expected_effects(const std::vector<Op>& ops);

CheckResult check(const std::vector<Op>& ops, const Snapshot& snapshot);

// The properties one by one (check() runs them all).
void check_effects(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result);
void check_ledger(const Snapshot& snapshot, CheckResult& result);
void check_conservation(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result);
void check_reads(const std::vector<Op>& ops, const Snapshot& snapshot, CheckResult& result);

}  // namespace wallet::nemesis
