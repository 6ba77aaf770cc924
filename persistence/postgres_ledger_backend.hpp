// PostgresLedgerBackend: the LedgerBackend of the running service. Reads (account loads,
// idempotency lookups) run on the DbPool's threads; writes and in-doubt lookups on write lanes:
// `write_lanes` one-thread WorkerPools, each with a LedgerStore of its own (one connection), so
// that as many batches are written at once (the LedgerWriter keeps one in flight per lane, sharing
// no account). A lane's in-doubt lookup runs on that lane: its store knows which server backend may
// still be committing the batch.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "persistence/db_pool.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/replication.hpp"
#include "runtime/worker_pool.hpp"

namespace wallet::persistence {

struct PostgresLedgerOptions {
  std::string database_url;
  std::chrono::milliseconds statement_timeout{5'000};
  std::chrono::seconds idempotency_ttl{24 * 3600};  // outcomes older than this are not replayed
  int purge_batch = 1'000;                          // rows deleted per purge statement
  size_t write_lanes = 1;                           // writer connections, each on its thread
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
  // A write still queued on a lane when it stops is answered as not written (it never ran).
  ~PostgresLedgerBackend() override;

  size_t write_lanes() const override { return lanes_.size(); }
  void apply(size_t lane, std::vector<const LedgerMutation*> batch,
             std::function<void(ApplyStatus)> done) override;
  void was_committed(size_t lane, const LedgerMutation& probe,
                     std::function<void(domain::Result<bool>)> done) override;
  void purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) override;
  void decide(const std::string& transaction_id, bool abort_if_none,
              std::function<void(domain::Result<TransactionDecision>)> done) override;
  void transaction_holds_due(
      std::vector<int> partitions, int partition_count, int64_t placed_before_ms, int limit,
      std::function<void(domain::Result<std::vector<HoldRecord>>)> done) override;
  void in_transit_due(std::vector<int> partitions, int limit,
                      std::function<void(domain::Result<InTransitSummary>)> done) override;
  void watch_server(std::function<void()> changed) override;
  void check_server() override;

 private:
  DbPool& pool_;
  const PostgresLedgerOptions options_;
  const std::shared_ptr<const OwnedPartitions> owned_;
  // The server the write lanes and check_server() last found (a failover changes it).
  const std::shared_ptr<ServerIdentity> server_ = std::make_shared<ServerIdentity>();
  // Lane i: stores_[i], used only on lanes_[i]'s one thread. The lanes go first when destroyed.
  std::vector<std::unique_ptr<LedgerStore>> stores_;
  std::vector<std::unique_ptr<runtime::WorkerPool>> lanes_;
};

}  // namespace wallet::persistence
