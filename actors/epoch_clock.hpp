// The wall clock a hold's expiry is stamped and judged by (Unix epoch milliseconds), handed to the
// Ledger in its options and from there to every account actor. The service keeps the system clock;
// the simulation makes it follow CAF's virtual actor clock (the one its model store's now() reads),
// so that holds expire there too and the actors' judgement agrees with the store's sweep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace wallet::actors {

using EpochClock = std::function<int64_t()>;

inline int64_t system_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wallet::actors
