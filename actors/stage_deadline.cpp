#include "actors/stage_deadline.hpp"

#include "actors/ledger_outcomes.hpp"

namespace wallet::actors {

caf::behavior stage_timekeeper(caf::event_based_actor*) {
  return {
      [](timeout_atom, StageTimer& timer) {
        if (timer.claim->expire()) timer.reply(timeout_reply());
      },
  };
}

}  // namespace wallet::actors
