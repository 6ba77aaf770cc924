// Stage deadlines: a step before the writer that waits for storage (a hold lookup, a payee check,
// a read of an account another instance owns) must not hold its client past the request's
// deadline. The step and a timer race for one claim: the timer answers `503 timeout` (nothing was
// handed on, so nothing changed), or the step passes the claim and hands the operation on (from
// then on only its real outcome answers it). Every stage is claimed exactly once.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <memory>

#include "actors/ledger_messages.hpp"

namespace wallet::actors {

class StageClaim {
 public:
  // The step goes on: true exactly once, and only if the deadline did not answer first.
  bool pass() { return take(kPassed); }
  // The deadline answers: true only if the step has not passed.
  bool expire() { return take(kExpired); }

 private:
  static constexpr int kOpen = 0, kPassed = 1, kExpired = 2;
  bool take(int to) {
    int open = kOpen;
    return state_.compare_exchange_strong(open, to);
  }
  std::atomic<int> state_{kOpen};
};

struct StageTimer {
  std::shared_ptr<StageClaim> claim;
  ReplyFn reply;
};

// Receives each stage's timer at its deadline and answers it if the step has not passed.
caf::behavior stage_timekeeper(caf::event_based_actor* self);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::StageTimer)
