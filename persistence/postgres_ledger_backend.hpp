// PostgresLedgerBackend: the LedgerBackend of the running service. Reads (account loads,
// idempotency lookups) run on the DbPool's threads; writes run on the calling thread, which is the
// LedgerWriter's own (a detached actor), over the one connection of a LedgerStore: group commit
// needs exactly one writer connection, and blocking there blocks nobody else.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "persistence/db_pool.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"

namespace wallet::persistence {

struct PostgresLedgerOptions {
  std::string database_url;
  std::chrono::milliseconds statement_timeout{5'000};
  std::chrono::seconds idempotency_ttl{24 * 3600};  // outcomes older than this are not replayed
  int purge_batch = 1'000;                          // rows deleted per purge statement
};

class PostgresLedgerBackend : public LedgerBackend {
 public:
  // `owned`: the partitions this instance holds; every commit is fenced with them. Null: commits
  // carry no fence (PARTITION_OWNERSHIP=shared, and tests of the store).
  PostgresLedgerBackend(DbPool& pool, PostgresLedgerOptions options,
                        std::shared_ptr<const OwnedPartitions> owned = nullptr);

  void load_account(
      const std::string& user_id,
      std::function<void(domain::Result<std::optional<AccountRecord>>)> done) override;
  void find_hold(const std::string& hold_id,
                 std::function<void(domain::Result<std::optional<HoldRecord>>)> done) override;
  void find_outcomes(
      std::vector<KeyRef> keys,
      std::function<void(domain::Result<std::vector<IdempotencyOutcome>>)> done) override;
  // Called only from the LedgerWriter's thread.
  void apply(const std::vector<const LedgerMutation*>& batch,
             std::function<void(ApplyStatus)> done) override;
  void was_committed(const LedgerMutation& probe,
                     std::function<void(domain::Result<bool>)> done) override;
  void purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) override;
  void in_transit_due(std::vector<int> partitions, int limit,
                      std::function<void(domain::Result<InTransitSummary>)> done) override;

 private:
  DbPool& pool_;
  const PostgresLedgerOptions options_;
  const std::shared_ptr<const OwnedPartitions> owned_;
  LedgerStore store_;
};

}  // namespace wallet::persistence
