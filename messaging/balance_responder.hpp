// BalanceResponder: transaction-service's NATS responder for `wallet.balance.get` (implementation
// in balance_responder.cpp; cnats calls back on its own threads, the answer comes from the ledger).
#pragma once

#include <caf/all.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/contract.hpp"
#include "domain/result.hpp"

namespace wallet::messaging {

// transaction-service: answers `wallet.balance.get` in queue group `transaction-service`.
using BalanceLookup =
    std::function<void(const std::string& user_id, std::function<void(domain::Result<int64_t>)>)>;

class BalanceResponder {
 public:
  // `subject` is the contract's `wallet.balance.get` except for test instances that must not answer
  // the stack's requests.
  BalanceResponder(caf::actor_system& system, std::string nats_url, BalanceLookup lookup,
                   std::string subject = domain::kBalanceSubject);
  ~BalanceResponder();
  void stop();
  bool healthy() const;           // connected to NATS
  nlohmann::json status() const;  // connection state, requests answered, errors

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::messaging
