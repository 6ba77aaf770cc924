// Hold expiry (issue 24 item 3, `wallet-simulate --expiry`): holds placed with timeouts of 1-3 s of
// virtual time, captured and voided while the account actors and the ledger's sweep expire them.
// ExpiryCheck watches each client hold leave `pending` and checks, once every expiry passed:
// - no hold moved money (captured) or was voided on requests that all came at or after its
//   expires_at, as the actor stamped it and the model stored it;
// - no hold expired before its expires_at, and every hold whose expiry passed is closed (liveness);
// - a capture or void refused while Postgres still held the hold pending was refused because it
//   was overdue, and that hold ended expired;
// - each idle actor's held money is the model's pending holds: released exactly once.
// Time is the test coordinator's clock: the model's now() and the ledger's hold clock
// (LedgerOptions::epoch_ms) both read it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// The sweep asks every 250 ms; an expiry then loads the payer if needed and commits through the
// writer. With the schedule drained after each 100 ms of time, a second is ample.
inline constexpr int64_t kExpirySlackMs = 1'000;

class ExpiryCheck {
 public:
  // After every commit of this instance: the holds that left `pending` in it, when and how.
  void note_commit(const ModelState& state, int64_t now_ms);

  // A capture or void answered 409 while Postgres held the hold pending: true (excused, and
  // checked at rest) when its expiry had passed by the answer; false: a refusal on a live hold.
  bool refused_as_overdue(const ClientOp& op, const persistence::HoldRecord& hold, int64_t now_ms);

  // The checks at rest (every expiry passed, the schedule drained). `elsewhere`: accounts another
  // instance took, whose holds are its to expire.
  std::vector<std::string> check(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                 const ModelState& state, int64_t now_ms,
                                 const std::function<bool(const std::string&)>& elsewhere) const;
  std::vector<std::string> check_held(
      const std::vector<actors::AccountSnapshot>& actors, const ModelState& state,
      const std::function<bool(const std::string&)>& elsewhere) const;

  int expired() const;
  int refused_as_expired() const { return static_cast<int>(refused_.size()); }

 private:
  struct Closing {
    std::string status;
    int64_t at_ms = 0;  // the commit that closed it
  };
  struct Refusal {
    int op_id = 0;
    std::string hold_id;
  };
  void check_closing(const std::string& hold_id, const persistence::HoldRecord& hold,
                     const std::vector<std::shared_ptr<ClientOp>>& ops,
                     std::vector<std::string>& failures) const;

  std::map<std::string, Closing> closed_;
  std::vector<Refusal> refused_;
};

// The latest expires_at of the client holds still pending (0: none).
int64_t latest_pending_expiry(const ModelState& state);

// A pending client hold to aim a capture or void at, most of the time (empty: none, or by chance).
std::string pending_hold(const ModelState& state, std::mt19937_64& rng);

}  // namespace wallet::simulation
