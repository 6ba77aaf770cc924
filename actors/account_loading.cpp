// AccountActor's loading: the balance, rules and holds read from Postgres, and read again (a
// resync) after a failed commit, a move of the account's partition, or an account opened while it
// loaded.
#include "actors/account_actor_internal.hpp"
#include "domain/partitioning.hpp"

namespace wallet::actors::account_internal {

int64_t now_ms() { return system_epoch_ms(); }

int64_t hold_now_ms(const AccountState& s) { return s.context->epoch_ms(); }

// Beyond one machine: the epoch under which this instance serves the account's partition now, -1
// when it does not serve it, 0 with a single owner.
int64_t current_epoch(Self self) {
  const auto& owned = self->state.context->owned;
  if (!owned) return 0;
  return owned->serving_epoch(domain::partition_of(self->state.user_id, owned->partitions()))
      .value_or(-1);
}

void start_load(Self self) {
  auto& s = self->state;
  s.phase = Phase::loading;
  s.loaded_epoch = current_epoch(self);
  auto me = caf::actor_cast<caf::actor>(self);
  auto user_id = s.user_id;
  using Account = std::optional<persistence::AccountRecord>;
  s.context->backend->load_account(user_id, [me](domain::Result<Account> result) {
    LoadResult loaded;
    if (!result) {
      loaded.balance = result.error();
    } else if (result.value()) {
      loaded.balance = std::optional<int64_t>{result.value()->balance};
      loaded.holds = std::move(result.value()->pending_holds);
      loaded.rules = std::move(*result.value());
    }
    caf::anon_send(me, loaded_atom::value, std::move(loaded));
  });
}

// The one place a dirty account starts its reload: once nothing is in flight and no transfer holds
// it. Called after every event that can make those true (settled, release).
void resync_if_settled(Self self) {
  auto& s = self->state;
  if (s.dirty && s.in_flight == 0 && s.phase == Phase::ready) start_load(self);
}

void on_loaded(Self self, LoadResult& loaded) {
  auto& s = self->state;
  if (!loaded.balance) {
    // Postgres is unreachable: answer what waits, and try again on the next request.
    s.phase = Phase::unloaded;
    s.moved_while_loading = false;  // the next load reads after the move anyway
    for (auto& work : s.stash.take()) fail(self, work, loaded.balance.error());
    return;
  }
  if (s.moved_while_loading) {
    // The partition changed hands while this load ran: it may have read before the last
    // owner's final commits (or this instance's fence took effect). Read again.
    s.moved_while_loading = false;
    start_load(self);
    return;
  }
  s.dirty = false;
  if (!loaded.balance.value() && s.opened_while_loading) {
    // The load may have read before the account's row committed: look again.
    s.opened_while_loading = false;
    start_load(self);
    return;
  }
  s.opened_while_loading = false;
  if (!loaded.balance.value()) {
    s.phase = Phase::missing;
    s.missing_since = self->clock().now();
    for (auto& work : s.stash.take()) fail(self, work, not_found(s.user_id));
    return;
  }
  s.committed = s.pending = *loaded.balance.value();
  s.owner = std::move(loaded.rules.user_id);
  s.currency = std::move(loaded.rules.currency);
  s.exponent = static_cast<int8_t>(loaded.rules.exponent);
  s.overdraft = loaded.rules.overdraft_limit;
  s.status = loaded.rules.status;
  load_holds(self, std::move(loaded.holds));
  s.phase = Phase::ready;
  drain(self);
}

void on_moved(Self self) {
  // Beyond one machine: this account's partition changed hands, so its balance may have
  // moved elsewhere: reload once nothing of ours is in flight.
  auto& s = self->state;
#ifndef WALLET_PROTOCOL_BUG_MOVE_LOST_WHILE_LOADING  // negative control (test-only build)
  if (s.phase == Phase::loading) s.moved_while_loading = true;
#endif
  if (s.phase == Phase::ready && !s.dirty && s.in_flight == 0 && s.stash.empty()) {
    // Idle: forget the balance and load it when work comes (a failover tells every loaded
    // account at once; loading them all now would flood the pool for nothing).
    s.phase = Phase::unloaded;
    return;
  }
  if (s.phase != Phase::unloaded && s.phase != Phase::missing) s.dirty = true;
  resync_if_settled(self);
}

void on_opened(Self self) {
  auto& s = self->state;
  if (s.phase == Phase::missing) s.phase = Phase::unloaded;
  if (s.phase == Phase::loading) s.opened_while_loading = true;
}

}  // namespace wallet::actors::account_internal
