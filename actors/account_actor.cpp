// AccountActor's behaviour: the messages it takes, each handed to the step that handles it
// (actors/account_*.cpp), and what it tells of itself (inspection, retirement when idle).
#include "actors/account_actor.hpp"

#include "actors/account_actor_internal.hpp"

namespace wallet::actors {
namespace {

using namespace account_internal;

const char* state_name(const AccountState& s) {
  switch (s.phase) {
    case Phase::unloaded:
      return "unloaded";  // the next request loads it (a pending resync included)
    case Phase::loading:
      return s.dirty ? "resyncing" : "loading";
    case Phase::missing:
      return "missing";
    case Phase::locked:
      return "waiting_on_transfer";
    case Phase::ready:
      if (s.dirty) return "resyncing";
      return (s.in_flight > 0 || !s.stash.empty()) ? "busy" : "idle";
  }
  return "idle";
}

void send_snapshot(Self self, const caf::actor& collector) {
  const auto& s = self->state;
  AccountSnapshot snapshot{
      s.user_id,      state_name(s), s.committed, s.pending,         self->mailbox().size(),
      s.stash.size(), s.handled,     s.in_flight, s.last_activity_ms};
  snapshot.holds_pending = s.holds.size();
  snapshot.held = s.held;
  snapshot.currency = s.currency;
  snapshot.exponent = s.exponent;
  self->send(collector, snapshot_atom::value, std::move(snapshot));
}

void retire_if_idle(Self self) {
  const auto& s = self->state;
  const bool idle =
      (s.phase == Phase::ready || s.phase == Phase::missing || s.phase == Phase::unloaded) &&
      s.in_flight == 0 && s.stash.empty() && !s.dirty;
  self->send(s.context->registry, retired_atom::value, s.user_id, idle);
  if (idle) self->quit();
}

}  // namespace

caf::behavior account_actor(caf::stateful_actor<AccountState>* self, std::string user_id,
                            std::shared_ptr<const AccountContext> context) {
  self->state.user_id = std::move(user_id);
  self->state.context = std::move(context);
  self->state.last_activity_ms = now_ms();
  return {
      // Every command the registry routes here (deposit, reserve, balance, withdraw, hold, void,
      // expire, available), in one handler: one behavior per account actor, so each handler less
      // is memory less on every live account.
      [=](work_atom, AccountState::Work& work) { accept(self, std::move(work)); },
      [=](loaded_atom, LoadResult& loaded) { on_loaded(self, loaded); },
      [=](release_atom, const std::string& transfer_id, bool submitted) {
        release_lock(self, transfer_id, submitted);
      },
      [=](settled_atom, bool committed, int64_t new_balance) {
        settle_commit(self, committed, new_balance);
      },
      [=](timeout_atom, uint32_t generation) {
        // A timer superseded by one for an earlier deadline: that one sweeps.
        if (generation == self->state.sweep_generation) sweep_expired(self);
      },
      [=](moved_atom) { on_moved(self); },
      [=](opened_atom) { on_opened(self); },
      [=](inspect_atom, const caf::actor& collector) { send_snapshot(self, collector); },
      [=](retire_atom) { retire_if_idle(self); },
  };
}

}  // namespace wallet::actors
