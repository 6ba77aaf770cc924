// Hold expiry's checks (expiry_check.hpp): the closings each client hold had, judged at rest.
#include "test/simulation/expiry_check.hpp"

#include <algorithm>

namespace wallet::simulation {
namespace {

bool client_hold(const persistence::HoldRecord& hold) { return hold.transaction_id.empty(); }

std::string ms(int64_t at) { return std::to_string(at) + " ms"; }

// Whether some capture or void of `hold_id` arrived before `before_ms` (a close it asked for may
// have been decided then, while the hold was live).
bool asked_before(const std::vector<std::shared_ptr<ClientOp>>& ops, const std::string& hold_id,
                  ClientOp::Kind kind, int64_t before_ms) {
  return std::any_of(ops.begin(), ops.end(), [&](const auto& op) {
    return op->kind == kind && op->hold_id == hold_id && op->sent_ms < before_ms;
  });
}

}  // namespace

void ExpiryCheck::note_commit(const ModelState& state, int64_t now_ms) {
  for (const auto& [id, hold] : state.holds) {
    if (hold.status != "pending" && client_hold(hold) && !closed_.count(id)) {
      closed_[id] = Closing{hold.status, now_ms};
    }
  }
}

bool ExpiryCheck::refused_as_overdue(const ClientOp& op, const persistence::HoldRecord& hold,
                                     int64_t now_ms) {
  if (hold.expires_at_ms > now_ms) return false;
  refused_.push_back({op.id, op.hold_id});
  return true;
}

// The account actor decides a capture or void on the hold it keeps, refusing one whose
// expires_at passed (`overdue`), so money moves only on a request that arrived before it. The
// commit may come later (Postgres has no guard on expires_at: the decision is the actor's), so the
// bound is the requests' arrival, which a client sees, not the commit's time.
void ExpiryCheck::check_closing(const std::string& hold_id, const persistence::HoldRecord& hold,
                                const std::vector<std::shared_ptr<ClientOp>>& ops,
                                std::vector<std::string>& failures) const {
  auto closing = closed_.find(hold_id);
  const std::string when = closing == closed_.end() ? std::string("?") : ms(closing->second.at_ms);
  if (hold.status == "captured" &&
      !asked_before(ops, hold_id, ClientOp::Kind::capture, hold.expires_at_ms)) {
    failures.push_back("hold " + hold_id + " expires at " + ms(hold.expires_at_ms) +
                       " but was captured (money moved, committed at " + when +
                       ") though every capture of it arrived at or after its expiry");
  }
  if (hold.status == "voided" &&
      !asked_before(ops, hold_id, ClientOp::Kind::void_hold, hold.expires_at_ms)) {
    failures.push_back("hold " + hold_id + " expires at " + ms(hold.expires_at_ms) +
                       " but was voided (committed at " + when +
                       ") though every void of it arrived at or after its expiry: it should have "
                       "expired");
  }
  if (hold.status == "expired" && closing != closed_.end() &&
      closing->second.at_ms < hold.expires_at_ms) {
    failures.push_back("hold " + hold_id + " expired early: committed expired at " + when +
                       ", before its expires_at " + ms(hold.expires_at_ms));
  }
}

std::vector<std::string> ExpiryCheck::check(
    const std::vector<std::shared_ptr<ClientOp>>& ops, const ModelState& state, int64_t now_ms,
    const std::function<bool(const std::string&)>& elsewhere) const {
  std::vector<std::string> failures;
  for (const auto& [id, hold] : state.holds) {
    if (!client_hold(hold)) continue;
    check_closing(id, hold, ops, failures);
    // Liveness: the sweep (or a debit of its payer) closes an overdue hold by itself.
    if (hold.status == "pending" && hold.expires_at_ms + kExpirySlackMs <= now_ms &&
        !elsewhere(hold.from_user_id)) {
      failures.push_back("liveness: hold " + id + " expired at " + ms(hold.expires_at_ms) +
                         " but is still pending at " + ms(now_ms) +
                         ": neither the sweep nor its payer's actor closed it");
    }
  }
  for (const auto& refusal : refused_) {
    auto it = state.holds.find(refusal.hold_id);
    // A payer taken by another instance: its holds are that instance's to expire (not modelled).
    if (it != state.holds.end() && it->second.status == "pending" &&
        elsewhere(it->second.from_user_id)) {
      continue;
    }
    if (it == state.holds.end() || it->second.status != "expired") {
      failures.push_back("client #" + std::to_string(refusal.op_id) +
                         " was refused hold_not_pending for hold " + refusal.hold_id +
                         " as overdue, but the hold ended " +
                         (it == state.holds.end() ? std::string("missing") : it->second.status) +
                         ", not expired: it was not really expired");
    }
  }
  return failures;
}

// The money an idle actor holds back is its payer's pending holds in Postgres: a hold's money
// released twice (an expiry and a capture or void both subtracting it) or never leaves `held` off,
// and with it every available balance the actor answers (available = balance + line - held).
std::vector<std::string> ExpiryCheck::check_held(
    const std::vector<actors::AccountSnapshot>& actors, const ModelState& state,
    const std::function<bool(const std::string&)>& elsewhere) const {
  std::vector<std::string> failures;
  for (const auto& a : actors) {
    if (a.state != "idle" || elsewhere(a.user_id)) continue;
    int64_t held = 0;
    size_t pending = 0;
    for (const auto& [id, hold] : state.holds) {
      if (hold.from_user_id != a.user_id || hold.status != "pending") continue;
      held += hold.amount;
      ++pending;
    }
    if (a.held != held || a.holds_pending != pending) {
      failures.push_back("account " + a.user_id + " holds back " + std::to_string(a.held) + " in " +
                         std::to_string(a.holds_pending) + " holds but Postgres has " +
                         std::to_string(held) + " in " + std::to_string(pending) +
                         " pending: held money not released exactly once");
    }
  }
  return failures;
}

int ExpiryCheck::expired() const {
  return static_cast<int>(std::count_if(
      closed_.begin(), closed_.end(), [](const auto& c) { return c.second.status == "expired"; }));
}

int64_t latest_pending_expiry(const ModelState& state) {
  int64_t latest = 0;
  for (const auto& [id, hold] : state.holds) {
    if (client_hold(hold) && hold.status == "pending")
      latest = std::max(latest, hold.expires_at_ms);
  }
  return latest;
}

std::string pending_hold(const ModelState& state, std::mt19937_64& rng) {
  std::vector<const std::string*> pending;
  for (const auto& [id, hold] : state.holds) {
    if (client_hold(hold) && hold.status == "pending") pending.push_back(&id);
  }
  if (pending.empty() || rng() % 3 == 0) return "";
  return *pending[rng() % pending.size()];
}

}  // namespace wallet::simulation
