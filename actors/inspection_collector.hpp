// InspectionCollector: gathers the snapshots that account actors send about themselves for the
// admin API, and answers once all have replied or after a short timeout (an actor busy with a long
// stash still answers, but the admin page must never hang on one).
#pragma once

#include <caf/all.hpp>
#include <functional>
#include <vector>

#include "actors/ledger_messages.hpp"

namespace wallet::actors {

struct CollectorState {
  size_t expected = 0;
  std::vector<AccountSnapshot> snapshots;
  std::function<void(std::vector<AccountSnapshot>)> reply;
  static inline const char* name = "inspection_collector";
};

caf::behavior inspection_collector(caf::stateful_actor<CollectorState>* self, size_t expected,
                                   std::function<void(std::vector<AccountSnapshot>)> reply);

}  // namespace wallet::actors
