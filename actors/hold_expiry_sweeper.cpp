#include "actors/hold_expiry_sweeper.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace wallet::actors {
namespace {

constexpr std::chrono::milliseconds kSweepEvery{250};
constexpr int kMaxPerSweep = 1000;

}  // namespace

caf::behavior hold_expiry_sweeper(caf::stateful_actor<SweeperState>* self,
                                  std::shared_ptr<persistence::LedgerRecords> records,
                                  caf::actor registry, std::shared_ptr<LedgerGauges> gauges,
                                  std::shared_ptr<const persistence::OwnedPartitions> owned) {
  self->state.owned = std::move(owned);
  self->state.records = std::move(records);
  self->state.registry = std::move(registry);
  self->state.gauges = std::move(gauges);
  self->send(self, sweep_atom::value);
  return {
      [=](sweep_atom) {
        auto me = caf::actor_cast<caf::actor>(self);
        self->state.records->sweep_overdue_holds(
            kMaxPerSweep, self->state.owned, [me](domain::Result<persistence::ExpirySweep> sweep) {
              caf::anon_send(me, sweep_atom::value, SweepResult{std::move(sweep)});
            });
      },
      [=](sweep_atom, SweepResult& result) {
        auto& s = self->state;
        auto& sweep = result.sweep;
        if (sweep) {
          s.gauges->holds_pending = sweep->pending;
          for (auto& hold : sweep->overdue) {
            self->send(s.registry, expire_atom::value, ExpireHold{hold.from_user_id, hold.hold_id});
          }
        } else {
          spdlog::warn("event=hold_sweep_failed cause=\"{}\"", sweep.error().message);
        }
        self->delayed_send(self, kSweepEvery, sweep_atom::value);
      },
  };
}

}  // namespace wallet::actors
