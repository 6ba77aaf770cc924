// InvariantResult: one checked property of the ledger and what broke it; the report prints one
// PASS/FAIL line per result and the exit code is 0 only when all of them passed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wallet::stress {

struct InvariantResult {
  static constexpr size_t kMaxDetails = 10;

  std::string name;
  bool passed = true;
  uint64_t violations = 0;
  std::vector<std::string> details;  // the first few violations
  std::string note;                  // what was not or could not be covered, if anything

  explicit InvariantResult(std::string n) : name(std::move(n)) {}

  void fail(std::string detail) {
    passed = false;
    ++violations;
    if (details.size() < kMaxDetails) details.push_back(std::move(detail));
  }
};

}  // namespace wallet::stress
