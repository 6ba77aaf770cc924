// Ledger persistence of transaction-service: accounts, ledger rows and idempotency outcomes.
// Reads are free functions over a connection (run them on a DbPool thread); writes go through
// LedgerStore::apply, the single-statement group commit used by the LedgerWriter.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/time_text.hpp"
#include "persistence/ledger_backend.hpp"
#include "persistence/ledger_records.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::persistence {

class ServerIdentity;

// Owns one connection; not thread-safe (the LedgerWriter's thread is its only user).
class LedgerStore {
 public:
  // `identity` (may be null) is told the server of every new connection. `idempotency_ttl`: an
  // outcome older than this no longer holds its key, and a commit under that key replaces it
  // (zero: stored outcomes hold their keys until purged).
  LedgerStore(std::string url, std::chrono::milliseconds statement_timeout,
              std::shared_ptr<ServerIdentity> identity = nullptr,
              std::chrono::seconds idempotency_ttl = std::chrono::seconds{0});

  // Writes all mutations in one transaction. Either all are committed or none is. `claim` is the
  // batch's fence (none when null or empty): a stale claim makes the batch `fenced`; an outcome
  // under a key that holds a live one makes it `key_taken`.
  ApplyStatus apply(const std::vector<const LedgerMutation*>& batch,
                    const OwnershipClaim* claim = nullptr);
  // Whether a batch answered `in_doubt` committed (see LedgerBackend::was_committed).
  domain::Result<bool> was_committed(const LedgerMutation& probe);

 private:
  void ensure_connected();
  void remember_doubt();
  // Terminates the backend of the in-doubt commit; true once it is gone (then it cannot commit
  // any more). Throws.
  bool doubt_backend_gone();
  // Whether the in-doubt batch's rows are on the server (after its old backend is gone); throws.
  bool found_committed(const LedgerMutation& probe);

  const std::string url_;
  const std::chrono::milliseconds statement_timeout_;
  const std::shared_ptr<ServerIdentity> identity_;
  const std::chrono::seconds idempotency_ttl_;
  std::unique_ptr<pqxx::connection> conn_;
  // The server backend of the connection (pid and start time identify it on that server), and of
  // the one that broke under an in-doubt commit: until that backend is gone, it may still commit,
  // so "not found" is not an answer yet.
  std::string backend_pid_, backend_start_;
  std::string doubt_pid_, doubt_start_;
};

// Reads, each throwing libpqxx exceptions (DbPool classifies them).
std::optional<int64_t> load_balance(pqxx::connection& conn, const std::string& user_id);
// The stored outcomes among many (endpoint, key) pairs, in one query.
// Outcomes older than `ttl` are expired: a key reused after that is a new operation.
std::vector<IdempotencyOutcome> find_outcomes(
    pqxx::connection& conn, const std::vector<std::pair<std::string, std::string>>& keys,
    std::chrono::seconds ttl);
// Beyond one machine: transfers in transit whose payee lies in one of `partitions`, oldest first,
// at most `limit` (the credits their owner still has to apply).
std::vector<InTransit> in_transit_for(pqxx::connection& conn, const std::vector<int>& partitions,
                                      int limit);
// Every transfer in transit: how many, their total, and the oldest `limit` of them.
InTransitSummary in_transit_summary(pqxx::connection& conn, int limit);
// Across owners (migration 012): LedgerBackend::decide and transaction_holds_due.
TransactionDecision decide_transaction(pqxx::connection& conn, const std::string& transaction_id,
                                       bool abort_if_none);
std::vector<HoldRecord> transaction_holds_due(pqxx::connection& conn,
                                              const std::vector<int>& partitions,
                                              int partition_count, int64_t placed_before_ms,
                                              int limit);
// Deletes up to `limit` outcomes older than `ttl`; returns how many it deleted.
size_t purge_expired_outcomes(pqxx::connection& conn, std::chrono::seconds ttl, int limit);

using domain::format_epoch_ms;  // domain/time_text.hpp

// Reads for holds.
// An account as its actor loads it: the balance and its pending holds as payer, read in one
// snapshot; nullopt when the account does not exist.
std::optional<AccountRecord> load_account(pqxx::connection& conn, const std::string& user_id);

std::optional<HoldRecord> load_hold(pqxx::connection& conn, const std::string& hold_id);

// Pending holds past expires_at (ExpirySweep, ledger_records.hpp).
// `only`: just the holds whose payer lies in a partition this instance serves (null: all).
ExpirySweep sweep_overdue_holds(pqxx::connection& conn, int limit,
                                const OwnedPartitions* only = nullptr);

// One page of history (HistoryPage, ledger_records.hpp).
std::optional<HistoryPage> load_history_page(pqxx::connection& conn, const std::string& user_id,
                                             int limit, int64_t before);

// Creates an account with balance 0 if it does not exist; true when this call created it.
bool open_account(pqxx::connection& conn, const std::string& user_id,
                  const std::string& created_at);

}  // namespace wallet::persistence
