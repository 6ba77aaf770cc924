#include "persistence/postgres_ledger_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

namespace wallet::persistence {

PostgresLedgerBackend::PostgresLedgerBackend(DbPool& pool, PostgresLedgerOptions options,
                                             std::shared_ptr<const OwnedPartitions> owned)
    : pool_(pool), options_(std::move(options)), owned_(std::move(owned)) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.write_lanes); ++i) {
    stores_.push_back(std::make_unique<LedgerStore>(
        options_.database_url, options_.statement_timeout, server_, options_.idempotency_ttl));
    // The writer keeps one write per lane in flight; a little room for a lookup after shutdown.
    lanes_.push_back(std::make_unique<runtime::WorkerPool>(1, 4));
  }
}

PostgresLedgerBackend::~PostgresLedgerBackend() {
  for (auto& lane : lanes_) lane->stop();  // before the stores its tasks use
}

void PostgresLedgerBackend::load_account(
    const std::string& user_id,
    std::function<void(domain::Result<std::optional<AccountRecord>>)> done) {
  pool_.run<std::optional<AccountRecord>>(
      "load_account",
      [user_id](pqxx::connection& conn) { return persistence::load_account(conn, user_id); },
      std::move(done));
}

void PostgresLedgerBackend::find_hold(
    const std::string& hold_id,
    std::function<void(domain::Result<std::optional<HoldRecord>>)> done) {
  pool_.run<std::optional<HoldRecord>>(
      "load_hold",
      [hold_id](pqxx::connection& conn) { return persistence::load_hold(conn, hold_id); },
      std::move(done));
}

void PostgresLedgerBackend::find_outcomes(
    std::vector<KeyRef> keys,
    std::function<void(domain::Result<std::vector<IdempotencyOutcome>>)> done) {
  pool_.run<std::vector<IdempotencyOutcome>>(
      "find_idempotency_outcomes",
      [keys = std::move(keys), ttl = options_.idempotency_ttl](pqxx::connection& conn) {
        auto found = persistence::find_outcomes(conn, keys, ttl);
        // A stored outcome can be visible before its commit reached the synchronous standby (a
        // writer's backend terminated in that wait): replayed only once a failover cannot take
        // it back. Rare (a retry after a restart or from another instance), so the extra commit
        // is paid only then.
        if (!found.empty()) confirm_durable(conn);
        return found;
      },
      std::move(done));
}

// The mutations stay where the writer keeps them until `done` is called. A write the lane never
// ran (it was stopping) is answered as not written.
void PostgresLedgerBackend::apply(size_t lane, std::vector<const LedgerMutation*> batch,
                                  std::function<void(ApplyStatus)> done) {
  LedgerStore& store = *stores_.at(lane);
  auto not_written = [done] { done(ApplyStatus::unavailable); };
  const bool queued = lanes_.at(lane)->submit(
      [this, &store, batch = std::move(batch), done] {
        if (!owned_) return done(store.apply(batch));
        const OwnershipClaim claim = owned_->claim();
        done(store.apply(batch, &claim));
      },
      not_written);
  if (!queued) not_written();
}

void PostgresLedgerBackend::was_committed(size_t lane, const LedgerMutation& probe,
                                          std::function<void(domain::Result<bool>)> done) {
  LedgerStore& store = *stores_.at(lane);
  auto still_unknown = [done] {
    done(domain::Error{domain::ErrorCode::unavailable, "the write lane is stopping"});
  };
  const bool queued = lanes_.at(lane)->submit(
      [&store, &probe, done] { done(store.was_committed(probe)); }, still_unknown);
  if (!queued) still_unknown();
}

void PostgresLedgerBackend::watch_server(std::function<void()> changed) {
  server_->on_change(
      [changed = std::move(changed)](const std::string&, const std::string&) { changed(); });
}

void PostgresLedgerBackend::check_server() {
  pool_.run<std::string>(
      "server_identity",
      [](pqxx::connection& conn) {
        try {
          return persistence::server_identity(conn);
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != "42501") throw;
          static std::atomic<bool> told{false};
          if (!told.exchange(true)) {
            spdlog::warn(
                "event=database_identity_unknown cause=\"no privilege to read pg_control_system; "
                "a failover is noticed through broken connections only\"");
          }
          return std::string();  // unknown, not changed
        }
      },
      [server = server_](domain::Result<std::string> identity) {
        if (identity) server->observe(identity.value());
      });
}

void PostgresLedgerBackend::purge_expired_outcomes(
    std::function<void(domain::Result<size_t>)> done) {
  pool_.run<size_t>(
      "purge_idempotency_outcomes",
      [ttl = options_.idempotency_ttl, limit = options_.purge_batch](pqxx::connection& conn) {
        return persistence::purge_expired_outcomes(conn, ttl, limit);
      },
      std::move(done));
}

void PostgresLedgerBackend::decide(const std::string& transaction_id, bool abort_if_none,
                                   std::function<void(domain::Result<TransactionDecision>)> done) {
  pool_.run<TransactionDecision>(
      "decide_transaction",
      [transaction_id, abort_if_none](pqxx::connection& conn) {
        return decide_transaction(conn, transaction_id, abort_if_none);
      },
      std::move(done));
}

void PostgresLedgerBackend::transaction_holds_due(
    std::vector<int> partitions, int partition_count, int64_t placed_before_ms, int limit,
    std::function<void(domain::Result<std::vector<HoldRecord>>)> done) {
  pool_.run<std::vector<HoldRecord>>(
      "transaction_holds_due",
      [partitions = std::move(partitions), partition_count, placed_before_ms,
       limit](pqxx::connection& conn) {
        return persistence::transaction_holds_due(conn, partitions, partition_count,
                                                  placed_before_ms, limit);
      },
      std::move(done));
}

void PostgresLedgerBackend::in_transit_due(
    std::vector<int> partitions, int limit,
    std::function<void(domain::Result<InTransitSummary>)> done) {
  pool_.run<InTransitSummary>(
      "in_transit_due",
      [partitions = std::move(partitions), limit](pqxx::connection& conn) {
        InTransitSummary summary = in_transit_summary(conn, 0);
        summary.oldest = in_transit_for(conn, partitions, limit);
        return summary;
      },
      std::move(done));
}

}  // namespace wallet::persistence
