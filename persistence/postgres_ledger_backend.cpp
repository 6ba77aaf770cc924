#include "persistence/postgres_ledger_backend.hpp"

namespace wallet::persistence {

PostgresLedgerBackend::PostgresLedgerBackend(DbPool& pool, PostgresLedgerOptions options,
                                             std::shared_ptr<const OwnedPartitions> owned)
    : pool_(pool),
      options_(std::move(options)),
      owned_(std::move(owned)),
      store_(options_.database_url, options_.statement_timeout) {}

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
        return persistence::find_outcomes(conn, keys, ttl);
      },
      std::move(done));
}

void PostgresLedgerBackend::apply(const std::vector<const LedgerMutation*>& batch,
                                  std::function<void(ApplyStatus)> done) {
  if (!owned_) return done(store_.apply(batch));
  const OwnershipClaim claim = owned_->claim();
  done(store_.apply(batch, &claim));
}

void PostgresLedgerBackend::was_committed(const LedgerMutation& probe,
                                          std::function<void(domain::Result<bool>)> done) {
  done(store_.was_committed(probe));
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
