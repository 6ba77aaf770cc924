#include "persistence/postgres_ledger_backend.hpp"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace wallet::persistence {

PostgresLedgerBackend::PostgresLedgerBackend(DbPool& pool, PostgresLedgerOptions options,
                                             std::shared_ptr<const OwnedPartitions> owned)
    : pool_(pool), options_(std::move(options)), owned_(std::move(owned)) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.write_lanes); ++i) {
    lanes_.push_back(std::make_shared<Lane>());
  }
  for (size_t i = 0; i < lanes_.size(); ++i) {
    lanes_[i]->thread =
        std::thread([lane = lanes_[i], i, options = options_] { run_lane(*lane, i, options); });
  }
}

PostgresLedgerBackend::~PostgresLedgerBackend() {
  for (auto& lane : lanes_) {
    {
      std::lock_guard<std::mutex> lock(lane->mutex);
      lane->stopping = true;
    }
    lane->wake.notify_one();
  }
  for (auto& lane : lanes_) {
    // The last reference may go with a callback that ran on a lane: that lane cannot join itself.
    // It ends on its own once it sees `stopping`; what it still had queued cannot be written.
    if (lane->thread.get_id() == std::this_thread::get_id()) {
      std::lock_guard<std::mutex> lock(lane->mutex);
      lane->writes.clear();
      lane->thread.detach();
    } else {
      lane->thread.join();
    }
  }
}

void PostgresLedgerBackend::run_lane(Lane& lane, size_t index,
                                     const PostgresLedgerOptions& options) {
  pthread_setname_np(pthread_self(), ("ledger.write" + std::to_string(index)).c_str());
  LedgerStore store(options.database_url, options.statement_timeout);
  while (true) {
    Write write;
    {
      std::unique_lock<std::mutex> lock(lane.mutex);
      lane.wake.wait(lock, [&lane] { return lane.stopping || !lane.writes.empty(); });
      if (lane.writes.empty()) return;  // stopping, and everything queued was written
      write = std::move(lane.writes.front());
      lane.writes.pop_front();
    }
    write(store);
  }
}

void PostgresLedgerBackend::enqueue(size_t index, Write write) {
  Lane& lane = *lanes_.at(index);
  {
    std::lock_guard<std::mutex> lock(lane.mutex);
    lane.writes.push_back(std::move(write));
  }
  lane.wake.notify_one();
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
        return persistence::find_outcomes(conn, keys, ttl);
      },
      std::move(done));
}

// The mutations stay where the writer keeps them until `done` is called.
void PostgresLedgerBackend::apply(size_t lane, const std::vector<const LedgerMutation*>& batch,
                                  std::function<void(ApplyStatus)> done) {
  enqueue(lane, [this, batch, done = std::move(done)](LedgerStore& store) {
    if (!owned_) return done(store.apply(batch));
    const OwnershipClaim claim = owned_->claim();
    done(store.apply(batch, &claim));
  });
}

void PostgresLedgerBackend::was_committed(size_t lane, const LedgerMutation& probe,
                                          std::function<void(domain::Result<bool>)> done) {
  enqueue(lane, [&probe, done = std::move(done)](LedgerStore& store) {
    done(store.was_committed(probe));
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
