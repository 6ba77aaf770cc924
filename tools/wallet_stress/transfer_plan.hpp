// TransferPlan: the transfers of one run, drawn from the seed before any request is sent, and the
// order in which they are sent: every transfer once, a share of them again with the same
// Idempotency-Key, half right behind the original (so that two workers send them concurrently)
// and half later in the run (a late client retry).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/account_setup.hpp"
#include "tools/wallet_stress/stress_config.hpp"

namespace wallet::stress {

struct PlannedTransfer {
  uint32_t from = 0;  // index into the accounts
  uint32_t to = 0;
  int64_t amount_minor = 0;
};

enum class SendKind : uint8_t { original, concurrent_duplicate, late_duplicate };

struct Send {
  uint32_t transfer = 0;  // index into TransferPlan::transfers
  SendKind kind = SendKind::original;
};

struct TransferPlan {
  std::string run_id;
  std::vector<PlannedTransfer> transfers;
  std::vector<Send> schedule;
  size_t concurrent_duplicates = 0;
  size_t late_duplicates = 0;

  std::string key(uint32_t transfer) const;
  std::string body(uint32_t transfer, const std::vector<Account>& accounts) const;
};

TransferPlan build_plan(const StressConfig& config, size_t account_count,
                        const std::string& run_id);

}  // namespace wallet::stress
