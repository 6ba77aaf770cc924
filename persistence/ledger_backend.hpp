// LedgerBackend: everything the ledger actors ask of durable storage, behind one interface, so that
// the same actors run over Postgres in the service and over an in-memory model in the protocol
// simulation (test/simulation), which fails, stalls and loses replies on command.
//
// Contract of every call: `done` is called exactly once, on any thread (possibly before the call
// returns), with the outcome.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::persistence {

enum class ApplyStatus {
  committed,    // durable
  rejected,     // refused by a constraint or a stale balance: nothing written
  unavailable,  // known not to be written (could not connect, or rolled back)
  in_doubt,     // the connection broke while the commit was under way: it may have committed
  fenced,       // refused as a whole: this instance no longer holds a partition it claims (WL005);
                // nothing written, and retrying here cannot help
  over_reversed,  // refused by the reversal guard (WL009): a reversal in the batch would reverse
                  // more of its transaction than is left; nothing written
  aborted,        // a transaction across owners in the batch was decided `abort` by a hold's owner
                  // before this commit (WL010); nothing written
  key_taken,      // an idempotency key of the batch is already stored with a live outcome (WL011):
                  // another request under it committed first (an earlier run, another instance);
                  // nothing written
};

using KeyRef = std::pair<std::string, std::string>;  // (endpoint, key)

class LedgerBackend {
 public:
  virtual ~LedgerBackend() = default;

  // The committed balance of an account and its pending holds; nullopt when it does not exist.
  virtual void load_account(
      const std::string& user_id,
      std::function<void(domain::Result<std::optional<AccountRecord>>)> done) = 0;

  // A hold by id, whatever its status; nullopt when there is none.
  virtual void find_hold(const std::string& hold_id,
                         std::function<void(domain::Result<std::optional<HoldRecord>>)> done) = 0;

  // The stored idempotency outcomes among `keys` (only those still within their retention).
  virtual void find_outcomes(
      std::vector<KeyRef> keys,
      std::function<void(domain::Result<std::vector<IdempotencyOutcome>>)> done) = 0;

  // How many writes may be under way at once (at least one): the LedgerWriter's lanes, each one
  // connection.
  virtual size_t write_lanes() const = 0;

  // Writes all mutations in one transaction, on write lane `lane` (below write_lanes()): all of
  // them are committed or none is. The caller has at most one apply or lookup in flight per lane,
  // and keeps the mutations unchanged until `done`.
  virtual void apply(size_t lane, std::vector<const LedgerMutation*> batch,
                     std::function<void(ApplyStatus)> done) = 0;

  // After `in_doubt`, on the lane whose apply it was: whether that batch committed, found by
  // looking up one of its rows (a batch commits whole, so one row tells). An error means "still
  // unknown, ask again later".
  virtual void was_committed(size_t lane, const LedgerMutation& probe,
                             std::function<void(domain::Result<bool>)> done) = 0;

  // Beyond one machine: the ledger-wide count and total of transfers in transit, with (in
  // `oldest`) up to `limit` of those whose payee lies in one of `partitions`, oldest first.
  virtual void in_transit_due(std::vector<int> partitions, int limit,
                              std::function<void(domain::Result<InTransitSummary>)> done) = 0;
  // Across owners (migration 012): the decision of a transaction; with `abort_if_none`, records
  // `abort` first unless a decision stands (then the one that stands is answered).
  virtual void decide(const std::string& transaction_id, bool abort_if_none,
                      std::function<void(domain::Result<TransactionDecision>)> done) = 0;
  // Pending holds of transactions whose payer lies in one of `partitions` of `partition_count`
  // (empty: any account), placed before `placed_before_ms` (Unix epoch milliseconds), oldest
  // first, at most `limit`.
  virtual void transaction_holds_due(
      std::vector<int> partitions, int partition_count, int64_t placed_before_ms, int limit,
      std::function<void(domain::Result<std::vector<HoldRecord>>)> done) = 0;
  // Deletes one small batch of idempotency outcomes past their retention; answers how many.
  virtual void purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) = 0;

  // A failover: `changed` is called (on any thread) whenever a connection finds another database
  // server than the one before (a promoted standby, a restored cluster), whose data may lack
  // commits the actors keep in memory. Default: never (the simulation's model is one server).
  virtual void watch_server(std::function<void()> changed) { (void)changed; }
  // Looks at the server now, so that a failover is noticed without waiting for a write.
  virtual void check_server() {}
};

}  // namespace wallet::persistence
