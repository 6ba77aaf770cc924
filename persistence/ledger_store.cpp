// The write path of the ledger: LedgerStore's group commit (one statement per batch) and how it
// settles a commit left in doubt. Reads: ledger_accounts.cpp, ledger_holds.cpp,
// ledger_outcomes.cpp, ledger_across_owners.cpp.
#include "persistence/ledger_store.hpp"

#include <spdlog/spdlog.h>

#include "persistence/connection.hpp"
#include "persistence/ledger_batch.hpp"
#include "persistence/replication.hpp"

namespace wallet::persistence {

LedgerStore::LedgerStore(std::string url, std::chrono::milliseconds statement_timeout,
                         std::shared_ptr<ServerIdentity> identity,
                         std::chrono::seconds idempotency_ttl)
    : url_(std::move(url)),
      statement_timeout_(statement_timeout),
      identity_(std::move(identity)),
      idempotency_ttl_(idempotency_ttl) {}

void LedgerStore::ensure_connected() {
  if (conn_ && conn_->is_open()) return;
  conn_.reset();
  auto conn = connect(url_);
  // A stalled database must not stall the ledger silently: a statement that runs longer is
  // cancelled (and so rolled back), and its clients are told 503.
  // The outcomes' retention, for the commit functions: an outcome older than this no longer holds
  // its key (the lookup of a key and the purge judge it the same way).
  std::string settings = "SET statement_timeout = " + std::to_string(statement_timeout_.count());
  if (idempotency_ttl_.count() > 0) {
    settings += "; SET wallet.idempotency_ttl_s = " + std::to_string(idempotency_ttl_.count());
  }
  pqxx::nontransaction(*conn).exec(settings);
  // ledger_commit_rows / ledger_commit_batch: the ownership fence, then the batch's writes, in
  // one statement.
  conn->prepare("ledger_commit_rows",
                "SELECT ledger_commit_rows($1, $2::integer[], $3::bigint[], $4::uuid[],"
                " $5::numeric[], $6::numeric[], $7::uuid[], $8::uuid[], $9::numeric[],"
                " $10::numeric[], $11::numeric[], $12::text[], $13::uuid[], $14::text[],"
                " $15::text[], $16::text[], $17::integer[], $18::text[], $19::uuid[],"
                " $20::smallint[], $21::uuid[], $22::jsonb[], $23::jsonb[], $24::text[],"
                " $25::timestamptz[])");
  conn->prepare("ledger_commit_batch", "SELECT ledger_commit_batch($1::jsonb)");
  auto me = pqxx::nontransaction(*conn).exec(
      "SELECT pid::text, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()");
  backend_pid_ = me.empty() ? "" : me[0][0].c_str();
  backend_start_ = me.empty() ? "" : me[0][1].c_str();
  // A failover: the actors' memory may hold commits the new primary lacks (ServerIdentity's
  // listener makes them reload before they answer again).
  if (identity_) {
    try {
      identity_->observe(*conn);
    } catch (const pqxx::sql_error& e) {
      // A server that does not tell (a managed Postgres without pg_control_system): the
      // once-a-second check logs it too; writing must not depend on it.
      spdlog::warn("event=database_identity_unknown cause=\"{}\"", e.what());
    }
  }
  conn_ = std::move(conn);
}

ApplyStatus LedgerStore::apply(const std::vector<const LedgerMutation*>& batch,
                               const OwnershipClaim* claim) {
  try {
    ensure_connected();
  } catch (const std::exception& e) {
    // Nothing was sent: known not to be written.
    conn_.reset();
    spdlog::warn("event=ledger_commit_unavailable size={} cause=\"{}\"", batch.size(), e.what());
    return ApplyStatus::unavailable;
  }
  try {
    // A nontransaction runs the single statement in its own implicit transaction: one round trip,
    // one commit, durable when it returns (synchronous_commit stays on).
    pqxx::nontransaction txn(*conn_);
    if (moves_balances_only(batch)) {
      const auto c = batch_columns(batch, claim);
      txn.exec_prepared(
          "ledger_commit_rows", c.fence_instance, c.fence_partitions.text(), c.fence_epochs.text(),
          c.account_ids.text(), c.old_balances.text(), c.new_balances.text(), c.entry_ids.text(),
          c.entry_users.text(), c.entry_changes.text(), c.entry_old.text(), c.entry_new.text(),
          c.entry_kinds.text(), c.entry_transfers.text(), c.outcome_endpoints.text(),
          c.outcome_keys.text(), c.outcome_hashes.text(), c.outcome_statuses.text(),
          c.outcome_bodies.text(), c.entry_transactions.text(), c.entry_postings.text(),
          c.transaction_ids.text(), c.transaction_postings.text(), c.transaction_metadata.text(),
          c.transaction_references.text(), c.transaction_times.text());
    } else {
      txn.exec_prepared("ledger_commit_batch", batch_document(batch, claim));
    }
    return ApplyStatus::committed;
  } catch (const pqxx::sql_error& e) {
    if (is_connection_failure(e) || e.sqlstate().rfind("57P", 0) == 0) {
      remember_doubt();
      spdlog::warn("event=ledger_commit_in_doubt size={} sqlstate={} cause=\"{}\"", batch.size(),
                   e.sqlstate(), e.what());
      return ApplyStatus::in_doubt;
    }
    if (e.sqlstate() == "57014" || e.sqlstate() == "25006" || e.sqlstate().rfind("08", 0) == 0) {
      // Cancelled (statement timeout) or refused by a read-only server: rolled back.
      conn_.reset();
      spdlog::warn("event=ledger_commit_unavailable size={} sqlstate={} cause=\"{}\"", batch.size(),
                   e.sqlstate(), e.what());
      return ApplyStatus::unavailable;
    }
    if (e.sqlstate() == "WL009") {
      spdlog::info("event=ledger_commit_over_reversed size={}", batch.size());
      return ApplyStatus::over_reversed;
    }
    if (e.sqlstate() == "WL010") {
      spdlog::info("event=ledger_commit_aborted_elsewhere size={}", batch.size());
      return ApplyStatus::aborted;
    }
    if (e.sqlstate() == "WL011") {
      spdlog::info("event=ledger_commit_key_taken size={}", batch.size());
      return ApplyStatus::key_taken;
    }
    if (e.sqlstate() == "WL005") {
      // The fence: another instance took a partition this one claims. Rolled back as a whole.
      spdlog::warn("event=ledger_commit_fenced size={} cause=\"{}\"", batch.size(), e.what());
      return ApplyStatus::fenced;
    }
    spdlog::warn("event=ledger_commit_rejected size={} sqlstate={} cause=\"{}\"", batch.size(),
                 e.sqlstate(), e.what());
    return ApplyStatus::rejected;
  } catch (const std::exception& e) {
    // The statement was sent and the connection broke: the commit may or may not have happened.
    remember_doubt();
    spdlog::warn("event=ledger_commit_in_doubt size={} cause=\"{}\"", batch.size(), e.what());
    return ApplyStatus::in_doubt;
  }
}

void LedgerStore::remember_doubt() {
  doubt_pid_ = backend_pid_;
  doubt_start_ = backend_start_;
  conn_.reset();
}

domain::Result<bool> LedgerStore::was_committed(const LedgerMutation& probe) {
  try {
    ensure_connected();
    if (!doubt_backend_gone()) {
      return domain::Error{domain::ErrorCode::unavailable,
                           "the in-doubt commit's backend is still running"};
    }
    if (!found_committed(probe)) return false;
    // Found, but perhaps only here: terminating a backend that waited for the synchronous standby
    // commits it on the primary alone. Answered once the standby has it too; until then (the
    // standby does not confirm, or this connection breaks) it stays in doubt.
    confirm_durable(*conn_);
    return true;
  } catch (const std::exception& e) {
    conn_.reset();
    return database_error(e, "ledger_was_committed");
  }
}

bool LedgerStore::doubt_backend_gone() {
  if (doubt_pid_.empty()) return true;
  // The old backend may still be running the batch (a client-side timeout or a cut network does
  // not stop it): stop it, and look only once it is gone. (pid, backend_start) names it on this
  // server only; after a failover it is not found here, and rightly so.
  pqxx::nontransaction txn(*conn_);
  auto alive = txn.exec_params(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE pid = $1::int AND backend_start = $2::timestamptz",
      doubt_pid_, doubt_start_);
  if (!alive.empty()) return false;
  doubt_pid_.clear();
  return true;
}

bool LedgerStore::found_committed(const LedgerMutation& probe) {
  pqxx::nontransaction txn(*conn_);
  if (!probe.entries.empty()) {
    return !txn.exec_params("SELECT 1 FROM transactions WHERE id = $1", probe.entries.front().id)
                .empty();
  }
  if (probe.outcome) {
    // Equal and live: ours, or an equal outcome stored earlier under the key that refused ours
    // (either way the answer is these bytes). An expired equal one is an earlier request's: ours
    // would have replaced it (with 0, outcomes never expire here).
    const auto& o = *probe.outcome;
    return !txn.exec_params(
                   "SELECT 1 FROM idempotency_keys WHERE endpoint = $1 AND key = $2"
                   " AND request_hash = $3 AND status_code = $4 AND response_body = $5"
                   " AND ($6 = 0 OR created_at > now() - make_interval(secs => $6))",
                   o.endpoint, o.key, o.request_hash, o.status, o.body,
                   static_cast<int64_t>(idempotency_ttl_.count()))
                .empty();
  }
  // A decision alone (a transaction across owners whose payers are all served elsewhere, with no
  // key): its record is its commit.
  if (!probe.transactions.empty()) {
    return !txn.exec_params("SELECT 1 FROM ledger_transactions WHERE transaction_id = $1",
                            probe.transactions.front().transaction_id)
                .empty();
  }
  // Hold-only mutations (a new hold, a void, an expiry) write no ledger row: their hold tells.
  if (!probe.new_holds.empty()) {
    return !txn.exec_params("SELECT 1 FROM holds WHERE hold_id = $1",
                            probe.new_holds.front().hold_id)
                .empty();
  }
  if (!probe.hold_changes.empty()) {
    const auto& change = probe.hold_changes.front();
    return !txn.exec_params("SELECT 1 FROM holds WHERE hold_id = $1 AND status = $2",
                            change.hold_id, change.status)
                .empty();
  }
  if (!probe.account_changes.empty()) {
    const auto& change = probe.account_changes.front();
    return !txn.exec_params("SELECT 1 FROM account_changes WHERE change_id = $1", change.change_id)
                .empty();
  }
  return false;  // an empty mutation writes nothing
}

}  // namespace wallet::persistence
