// AccountRegistry: knows the live AccountActors, spawns one on first use and retires it when idle.
// Every message for an account enters through the registry, which forwards it; this is what makes
// eviction race-free: while the registry asks an actor to retire, messages for that account are
// held here and then go to the same actor (if it declined) or to a fresh one (if it quit, with
// nothing in flight, so the fresh one loads the committed balance).
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/account_actor.hpp"

namespace wallet::actors {

struct RegistryEntry {
  caf::actor account;
  int64_t last_used_ms = 0;
  bool retiring = false;
  std::vector<std::function<void(const caf::actor&)>> held;  // while retiring
};

struct RegistryStats {
  uint64_t spawned = 0;
  uint64_t retired = 0;
};

struct RegistryState {
  std::shared_ptr<const AccountContext> context;  // shared by every account actor
  std::shared_ptr<LedgerGauges> gauges;
  std::unordered_map<std::string, RegistryEntry> accounts;
  std::chrono::milliseconds idle_after{60'000};
  RegistryStats stats;
  uint64_t retired_at_last_trim = 0;
  static inline const char* name = "account_registry";
};

// `context.registry` is filled in by the registry itself.
caf::behavior account_registry(caf::stateful_actor<RegistryState>* self, AccountContext context,
                               std::chrono::milliseconds idle_after,
                               std::shared_ptr<LedgerGauges> gauges);

}  // namespace wallet::actors
