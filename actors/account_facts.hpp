// AccountFacts: what a transaction's HTTP checks need of the accounts it names (they exist, their
// user, currency and exponent, their status), kept for a moment so that POST /transactions does
// not read them from Postgres every time. An account never goes away and its user, currency and
// exponent never change, so those are never stale; its status may change (frozen, closed), so an
// entry serves for `fresh_for` only, and this instance forgets it when it changes the account
// itself. A status read up to `fresh_for` ago only orders refusals: the account actors refuse a
// frozen or closed account whatever the check saw. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "persistence/ledger_types.hpp"

namespace wallet::actors {

class AccountFacts {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AccountFacts(std::chrono::milliseconds fresh_for = std::chrono::milliseconds(1000),
                        size_t capacity = 100'000);

  // The entries of `ids` still fresh, in the order of `ids`; the ids without one in `missing`.
  std::vector<persistence::AccountView> find(const std::vector<std::string>& ids,
                                             std::vector<std::string>& missing) const;
  // Keeps what was just read (balances included, but nobody may take money figures from here).
  void keep(const std::vector<persistence::AccountView>& read);
  void forget(const std::string& account_id);

 private:
  struct Entry {
    persistence::AccountView view;
    Clock::time_point read_at;
  };
  const std::chrono::milliseconds fresh_for_;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wallet::actors
