#include "persistence/ledger_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/money.hpp"
#include "persistence/connection.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/replication.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {
namespace {

// The columns every hold read selects, in the order hold_from_row reads them.
// Each from `holds h`, with the payer's currency: the caller joins `accounts a` on the payer.
const std::string kHoldColumns =
    std::string(
        "h.hold_id, h.from_user_id, h.to_user_id, h.amount, h.status,"
        " (extract(epoch FROM h.expires_at) * 1000)::bigint, coalesce(h.transfer_id::text, ''),"
        " coalesce(h.captured_amount, 0), to_char(h.created_at AT TIME ZONE 'UTC', '") +
    kRfc3339 +
    "'), a.currency, a.user_id::text,"
    " (SELECT b.user_id::text FROM accounts b WHERE b.account_id = h.to_user_id),"
    " coalesce(h.transaction_id::text, ''), coalesce(h.posting, -1)";
const std::string kHoldsWithPayer =
    " FROM holds h JOIN accounts a ON a.account_id = h.from_user_id ";

HoldRecord hold_from_row(const pqxx::row& row) {
  HoldRecord hold;
  hold.hold_id = row[0].as<std::string>();
  hold.from_user_id = row[1].as<std::string>();
  hold.to_user_id = row[2].as<std::string>();
  hold.currency = row[9].as<std::string>();
  hold.exponent = exponent_of(hold.currency);
  hold.amount = minor_units(row[3], hold.exponent);
  hold.status = row[4].as<std::string>();
  hold.expires_at_ms = row[5].as<int64_t>();
  hold.transfer_id = row[6].as<std::string>();
  hold.captured_amount = minor_units(row[7], hold.exponent);
  hold.created_at = row[8].as<std::string>();
  hold.from_owner = row[10].as<std::string>();
  hold.to_owner = row[11].as<std::string>("");
  hold.transaction_id = row[12].as<std::string>();
  hold.posting = row[13].as<int>();
  return hold;
}

// Per account the balance a batch starts from (its first entry's old balance) and ends at (its
// last entry's new balance), ordered by id: a stable row-lock order.
struct Span {
  int64_t first_old;
  int64_t last_new;
  int exponent;
};
std::map<std::string, Span> account_spans(const std::vector<const LedgerMutation*>& batch) {
  std::map<std::string, Span> accounts;
  for (const auto* mutation : batch) {
    for (const auto& entry : mutation->entries) {
      auto it =
          accounts.try_emplace(entry.user_id, Span{entry.old_balance, 0, entry.exponent}).first;
      it->second.last_new = entry.new_balance;
    }
  }
  return accounts;
}

// A batch that only moves balances (no hold created or closed, nothing in transit, no reversal,
// no decision across owners; transactions of POST /transactions are fine) goes as typed columns to
// ledger_commit_rows (functions/ledger_commit_rows.sql); any other as one jsonb document to
// ledger_commit_batch.
bool moves_balances_only(const std::vector<const LedgerMutation*>& batch) {
  return std::all_of(batch.begin(), batch.end(), [](const LedgerMutation* m) {
    return m->new_holds.empty() && m->hold_changes.empty() && m->departures.empty() &&
           m->arrivals.empty() && m->account_changes.empty() &&
           std::all_of(m->transactions.begin(), m->transactions.end(),
                       [](const TransactionRecord& t) { return t.reverses.empty() && !t.decides; });
  });
}

// The 25 parameters of ledger_commit_rows, in its order.
struct BatchColumns {
  std::string fence_instance;
  ArrayLiteral fence_partitions, fence_epochs;
  ArrayLiteral account_ids, old_balances, new_balances;
  ArrayLiteral entry_ids, entry_users, entry_changes, entry_old, entry_new, entry_kinds,
      entry_transfers;
  ArrayLiteral outcome_endpoints, outcome_keys, outcome_hashes, outcome_statuses, outcome_bodies;
  ArrayLiteral entry_transactions, entry_postings;
  ArrayLiteral transaction_ids, transaction_postings, transaction_metadata, transaction_references,
      transaction_times;
};

BatchColumns batch_columns(const std::vector<const LedgerMutation*>& batch,
                           const OwnershipClaim* claim) {
  BatchColumns c;
  if (claim && !claim->instance_id.empty()) {
    c.fence_instance = claim->instance_id;
    for (const auto& [partition, epoch] : claim->epochs) {
      c.fence_partitions.number(partition);
      c.fence_epochs.number(epoch);
    }
  }
  for (const auto& [user_id, span] : account_spans(batch)) {
    c.account_ids.plain(user_id);
    c.old_balances.plain(money(span.first_old, span.exponent));
    c.new_balances.plain(money(span.last_new, span.exponent));
  }
  // Rows naming a transaction: then every row says whether it does (else unnest pads with NULL).
  const bool postings = std::any_of(
      batch.begin(), batch.end(), [](const LedgerMutation* m) { return !m->transactions.empty(); });
  for (const auto* mutation : batch) {
    for (const auto& t : mutation->transactions) {
      c.transaction_ids.plain(t.transaction_id);
      c.transaction_postings.quoted(t.postings);
      c.transaction_metadata.quoted(t.metadata);
      if (t.reference) {
        c.transaction_references.quoted(*t.reference);
      } else {
        c.transaction_references.null();
      }
      c.transaction_times.quoted(t.created_at);
    }
    for (const auto& entry : mutation->entries) {
      if (postings) {
        if (entry.transaction_id.empty()) {
          c.entry_transactions.null();
          c.entry_postings.null();
        } else {
          c.entry_transactions.plain(entry.transaction_id);
          c.entry_postings.number(entry.posting);
        }
      }
      c.entry_ids.plain(entry.id);
      c.entry_users.plain(entry.user_id);
      c.entry_changes.plain(money(entry.change, entry.exponent));
      c.entry_old.plain(money(entry.old_balance, entry.exponent));
      c.entry_new.plain(money(entry.new_balance, entry.exponent));
      c.entry_kinds.plain(entry_kind_name(entry.kind));
      if (entry.transfer_id.empty()) {
        c.entry_transfers.null();
      } else {
        c.entry_transfers.plain(entry.transfer_id);
      }
    }
    if (mutation->outcome) {
      const auto& o = *mutation->outcome;
      c.outcome_endpoints.quoted(o.endpoint);
      c.outcome_keys.quoted(o.key);
      c.outcome_hashes.quoted(o.request_hash);
      c.outcome_statuses.number(o.status);
      c.outcome_bodies.quoted(o.body);
    }
  }
  return c;
}

// Builds the jsonb argument of ledger_commit_batch: as batch_columns, plus holds, hold changes
// and the legs of cross-owner transfers.
std::string batch_document(const std::vector<const LedgerMutation*>& batch,
                           const OwnershipClaim* claim) {
  nlohmann::json entries = nlohmann::json::array();
  nlohmann::json outcomes = nlohmann::json::array();
  nlohmann::json new_holds = nlohmann::json::array();
  nlohmann::json hold_changes = nlohmann::json::array();
  nlohmann::json departures = nlohmann::json::array();
  nlohmann::json arrivals = nlohmann::json::array();
  nlohmann::json account_changes = nlohmann::json::array();
  nlohmann::json transactions = nlohmann::json::array();
  for (const auto* mutation : batch) {
    for (const auto& entry : mutation->entries) {
      nlohmann::json row{{"id", entry.id},
                         {"user_id", entry.user_id},
                         {"balance_change", money(entry.change, entry.exponent)},
                         {"old_balance", money(entry.old_balance, entry.exponent)},
                         {"new_balance", money(entry.new_balance, entry.exponent)},
                         {"kind", entry_kind_name(entry.kind)}};
      row["transfer_id"] =
          entry.transfer_id.empty() ? nlohmann::json() : nlohmann::json(entry.transfer_id);
      if (!entry.transaction_id.empty()) {
        row["transaction_id"] = entry.transaction_id;
        row["posting"] = entry.posting;
      }
      entries.push_back(std::move(row));
    }
    for (const auto& t : mutation->transactions) {
      nlohmann::json row{{"transaction_id", t.transaction_id},
                         {"postings", nlohmann::json::parse(t.postings)},
                         {"metadata", nlohmann::json::parse(t.metadata)},
                         {"created_at", t.created_at}};
      row["reference"] = t.reference ? nlohmann::json(*t.reference) : nlohmann::json();
      if (t.decides) row["decides"] = true;
      if (!t.reverses.empty()) {
        row["reverses"] = t.reverses;
        row["reversible"] = money(t.reversible, t.exponent);
        row["reversed_now"] = money(t.reversed_now, t.exponent);
      }
      transactions.push_back(std::move(row));
    }
    for (const auto& hold : mutation->new_holds) {
      new_holds.push_back({{"hold_id", hold.hold_id},
                           {"from_user_id", hold.from_user_id},
                           {"to_user_id", hold.to_user_id},
                           {"amount", money(hold.amount, hold.exponent)},
                           {"expires_at", format_epoch_ms(hold.expires_at_ms)}});
      if (!hold.transaction_id.empty()) {
        new_holds.back()["transaction_id"] = hold.transaction_id;
        new_holds.back()["posting"] = hold.posting;
      }
    }
    for (const auto& change : mutation->hold_changes) {
      const bool captured = change.status == "captured";
      hold_changes.push_back(
          {{"hold_id", change.hold_id},
           {"status", change.status},
           {"transfer_id", captured ? nlohmann::json(change.transfer_id) : nlohmann::json()},
           {"captured_amount", captured
                                   ? nlohmann::json(money(change.captured_amount, change.exponent))
                                   : nlohmann::json()}});
    }
    for (const auto& leg : mutation->departures) {
      nlohmann::json row{{"transfer_id", leg.transfer_id},
                         {"from_user_id", leg.from_user_id},
                         {"to_user_id", leg.to_user_id},
                         {"amount", money(leg.amount, leg.exponent)},
                         {"to_partition", leg.to_partition}};
      if (!leg.transaction_id.empty()) {
        row["transaction_id"] = leg.transaction_id;
        row["posting"] = leg.posting;
      }
      departures.push_back(std::move(row));
    }
    for (const auto& leg : mutation->arrivals) {
      arrivals.push_back({{"transfer_id", leg.transfer_id},
                          {"to_user_id", leg.to_user_id},
                          {"amount", money(leg.amount, leg.exponent)}});
    }
    for (const auto& change : mutation->account_changes) {
      nlohmann::json row{{"account_id", change.account_id}, {"change_id", change.change_id}};
      if (change.status) row["status"] = *change.status;
      if (change.overdraft_limit) {
        row["overdraft_limit"] = money(*change.overdraft_limit, change.exponent);
      }
      if (change.metadata) row["metadata"] = nlohmann::json::parse(*change.metadata);
      account_changes.push_back(std::move(row));
    }
    if (mutation->outcome) {
      const auto& o = *mutation->outcome;
      outcomes.push_back({{"endpoint", o.endpoint},
                          {"key", o.key},
                          {"request_hash", o.request_hash},
                          {"status_code", o.status},
                          {"response_body", o.body}});
    }
  }
  nlohmann::json account_rows = nlohmann::json::array();
  for (const auto& [user_id, span] : account_spans(batch)) {
    account_rows.push_back({{"user_id", user_id},
                            {"old_balance", money(span.first_old, span.exponent)},
                            {"new_balance", money(span.last_new, span.exponent)}});
  }
  nlohmann::json doc{{"accounts", std::move(account_rows)},
                     {"entries", std::move(entries)},
                     {"outcomes", std::move(outcomes)}};
  if (!new_holds.empty()) doc["holds"] = std::move(new_holds);
  if (!hold_changes.empty()) doc["hold_changes"] = std::move(hold_changes);
  if (!departures.empty()) doc["departures"] = std::move(departures);
  if (!arrivals.empty()) doc["arrivals"] = std::move(arrivals);
  if (!account_changes.empty()) doc["account_changes"] = std::move(account_changes);
  if (!transactions.empty()) doc["transactions"] = std::move(transactions);
  if (claim && !claim->instance_id.empty()) {
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& [partition, epoch] : claim->epochs) {
      epochs.push_back({{"partition", partition}, {"epoch", epoch}});
    }
    doc["fence"] = {{"instance", claim->instance_id}, {"epochs", std::move(epochs)}};
  }
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

const char* entry_kind_name(EntryKind kind) {
  switch (kind) {
    case EntryKind::deposit:
      return "deposit";
    case EntryKind::transfer_debit:
      return "transfer_debit";
    case EntryKind::transfer_credit:
      return "transfer_credit";
    case EntryKind::withdrawal:
      return "withdrawal";
    case EntryKind::posting_debit:
      return "posting_debit";
    case EntryKind::posting_credit:
      return "posting_credit";
  }
  return "deposit";
}

LedgerStore::LedgerStore(std::string url, std::chrono::milliseconds statement_timeout,
                         std::shared_ptr<ServerIdentity> identity)
    : url_(std::move(url)), statement_timeout_(statement_timeout), identity_(std::move(identity)) {}

void LedgerStore::ensure_connected() {
  if (conn_ && conn_->is_open()) return;
  conn_.reset();
  auto conn = connect(url_);
  // A stalled database must not stall the ledger silently: a statement that runs longer is
  // cancelled (and so rolled back), and its clients are told 503.
  pqxx::nontransaction(*conn).exec("SET statement_timeout = " +
                                   std::to_string(statement_timeout_.count()));
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
    const auto& o = *probe.outcome;
    return !txn.exec_params(
                   "SELECT 1 FROM idempotency_keys WHERE endpoint = $1 AND key = $2"
                   " AND request_hash = $3 AND status_code = $4 AND response_body = $5",
                   o.endpoint, o.key, o.request_hash, o.status, o.body)
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

std::optional<int64_t> load_balance(pqxx::connection& conn, const std::string& user_id) {
  pqxx::nontransaction txn(conn);
  auto rows =
      txn.exec_params("SELECT balance, currency FROM accounts WHERE account_id = $1", user_id);
  if (rows.empty()) return std::nullopt;
  return minor_units(rows[0][0], exponent_of(rows[0][1].as<std::string>()));
}

std::vector<IdempotencyOutcome> find_outcomes(
    pqxx::connection& conn, const std::vector<std::pair<std::string, std::string>>& keys,
    std::chrono::seconds ttl) {
  ArrayLiteral endpoints, names;
  for (const auto& [endpoint, key] : keys) {
    endpoints.quoted(endpoint);
    names.quoted(key);
  }
  // Prepared once per connection and planned once (generic plans, see SessionOptions): one probe
  // of the primary key per wanted key (LIMIT 1 keeps each probe a lookup of its own, whatever the
  // table's statistics say), and whether the outcome is within its retention.
  conn.prepare("wallet_find_outcomes",
               "SELECT o.endpoint, o.key, o.request_hash, o.status_code, o.response_body, o.live,"
               "       o.age_ms"
               "  FROM unnest($1::text[], $2::text[]) AS w(endpoint, key)"
               "  CROSS JOIN LATERAL ("
               "    SELECT i.endpoint, i.key, i.request_hash, i.status_code, i.response_body,"
               "           i.created_at > now() - make_interval(secs => $3) AS live,"
               "           (extract(epoch FROM now() - i.created_at) * 1000)::bigint AS age_ms"
               "      FROM idempotency_keys i WHERE i.endpoint = w.endpoint AND i.key = w.key"
               "     LIMIT 1) o");
  // A key reused after its retention is a new operation: its expired outcome is deleted now, so
  // that the new outcome's insert does not collide with it before the background purge reaches
  // it (the condition on created_at again: only if it is still the expired one).
  conn.prepare("wallet_forget_expired_outcome",
               "DELETE FROM idempotency_keys WHERE endpoint = $1 AND key = $2"
               " AND created_at <= now() - make_interval(secs => $3)");
  const auto seconds = static_cast<int64_t>(ttl.count());
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec_prepared("wallet_find_outcomes", endpoints.text(), names.text(), seconds);
  std::vector<IdempotencyOutcome> found;
  found.reserve(rows.size());
  for (const auto& row : rows) {
    if (!row[5].as<bool>()) {
      txn.exec_prepared("wallet_forget_expired_outcome", row[0].c_str(), row[1].c_str(), seconds);
      continue;
    }
    found.push_back(IdempotencyOutcome{
        row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
        row[3].as<int>(), row[4].as<std::string>(), std::max<int64_t>(0, row[6].as<int64_t>())});
  }
  return found;
}

size_t purge_expired_outcomes(pqxx::connection& conn, std::chrono::seconds ttl, int limit) {
  // Small batches through the created_at index: short transactions that never hold up the
  // writer's inserts for long.
  pqxx::nontransaction txn(conn);
  auto result = txn.exec_params(
      "DELETE FROM idempotency_keys WHERE ctid IN ("
      " SELECT ctid FROM idempotency_keys"
      "  WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2)",
      static_cast<int64_t>(ttl.count()), limit);
  return static_cast<size_t>(result.affected_rows());
}

std::optional<HistoryPage> load_history_page(pqxx::connection& conn, const std::string& user_id,
                                             int limit, int64_t before) {
  pqxx::read_transaction txn(conn);
  // The user form (SPEC.md sections 2 to 7): a user's default account only.
  auto account = txn.exec_params(
      "SELECT currency FROM accounts WHERE account_id = $1 AND user_id = $1", user_id);
  if (account.empty()) return std::nullopt;
  const int exponent = exponent_of(account[0][0].as<std::string>());
  // One row more than asked tells whether another page follows. seq only grows, so rows that
  // commit while a client pages land above its cursor and never shift a page.
  auto rows = txn.exec_params(
      std::string("SELECT id, balance_change, old_balance, new_balance, kind,"
                  " coalesce(transfer_id::text, ''),"
                  " to_char(created_at AT TIME ZONE 'UTC', '") +
          kRfc3339 +
          "'), seq FROM transactions WHERE account_id = $1 AND ($2::bigint = 0 OR seq < $2::bigint)"
          " ORDER BY seq DESC LIMIT $3",
      user_id, before, limit + 1);
  HistoryPage page;
  page.exponent = exponent;
  page.rows.reserve(std::min<size_t>(rows.size(), static_cast<size_t>(limit)));
  for (const auto& row : rows) {
    if (page.rows.size() == static_cast<size_t>(limit)) {
      page.next_before = rows[limit - 1][7].as<int64_t>();
      break;
    }
    page.rows.push_back(HistoryRow{row[0].as<std::string>(), minor_units(row[1], exponent),
                                   minor_units(row[2], exponent), minor_units(row[3], exponent),
                                   row[4].as<std::string>(), row[5].as<std::string>(),
                                   row[6].as<std::string>()});
  }
  return page;
}

std::optional<AccountRecord> load_account(pqxx::connection& conn, const std::string& user_id) {
  // One snapshot: the balance and the holds it backs must be read at the same moment.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
  auto found = txn.exec_params(
      "SELECT balance, user_id::text, currency, overdraft_limit, status FROM accounts"
      " WHERE account_id = $1",
      user_id);
  if (found.empty()) return std::nullopt;
  AccountRecord account;
  account.user_id = found[0][1].as<std::string>();
  account.currency = found[0][2].as<std::string>();
  account.exponent = exponent_of(account.currency);
  account.balance = minor_units(found[0][0], account.exponent);
  account.overdraft_limit = minor_units(found[0][3], account.exponent);
  account.status =
      parse_account_status(found[0][4].as<std::string>()).value_or(AccountStatus::open);
  auto holds = txn.exec_params("SELECT " + kHoldColumns + kHoldsWithPayer +
                                   "WHERE h.from_user_id = $1 AND h.status = 'pending'",
                               user_id);
  for (const auto& row : holds) account.pending_holds.push_back(hold_from_row(row));
  return account;
}

std::optional<HoldRecord> load_hold(pqxx::connection& conn, const std::string& hold_id) {
  pqxx::nontransaction txn(conn);
  auto rows =
      txn.exec_params("SELECT " + kHoldColumns + kHoldsWithPayer + "WHERE h.hold_id = $1", hold_id);
  if (rows.empty()) return std::nullopt;
  return hold_from_row(rows[0]);
}

ExpirySweep sweep_overdue_holds(pqxx::connection& conn, int limit, const OwnedPartitions* only) {
  pqxx::nontransaction txn(conn);
  ExpirySweep sweep;
  const std::string overdue = "SELECT " + kHoldColumns + kHoldsWithPayer +
                              "WHERE h.status = 'pending' AND h.expires_at <= now()";
  pqxx::result rows;
  if (!only) {
    rows = txn.exec_params(overdue + " ORDER BY h.expires_at LIMIT $1", limit);
  } else {
    const auto serving = only->serving();
    rows =
        txn.exec_params(overdue +
                            " AND ledger_partition_of(h.from_user_id, $2) = ANY ($3::bigint[])"
                            " ORDER BY h.expires_at LIMIT $1",
                        limit, only->partitions(),
                        bigint_array_literal(std::vector<int64_t>(serving.begin(), serving.end())));
  }
  for (const auto& row : rows) sweep.overdue.push_back(hold_from_row(row));
  sweep.pending =
      txn.exec("SELECT count(*) FROM holds WHERE status = 'pending'")[0][0].as<int64_t>();
  return sweep;
}

TransactionDecision decide_transaction(pqxx::connection& conn, const std::string& transaction_id,
                                       bool abort_if_none) {
  pqxx::work txn(conn);
  if (abort_if_none) {
    txn.exec_params(
        "INSERT INTO transaction_decisions (transaction_id, outcome) VALUES ($1, 'abort')"
        " ON CONFLICT (transaction_id) DO NOTHING",
        transaction_id);
  }
  auto rows = txn.exec_params("SELECT outcome FROM transaction_decisions WHERE transaction_id = $1",
                              transaction_id);
  txn.commit();
  if (rows.empty()) return TransactionDecision::none;
  return rows[0][0].as<std::string>() == "commit" ? TransactionDecision::commit
                                                  : TransactionDecision::abort;
}

std::vector<HoldRecord> transaction_holds_due(pqxx::connection& conn,
                                              const std::vector<int>& partitions,
                                              int partition_count, int64_t placed_before_ms,
                                              int limit) {
  pqxx::nontransaction txn(conn);
  const std::string due = "SELECT " + kHoldColumns + kHoldsWithPayer +
                          "WHERE h.status = 'pending' AND h.transaction_id IS NOT NULL"
                          " AND h.created_at < to_timestamp($1::double precision / 1000)";
  pqxx::result rows;
  if (partitions.empty()) {
    rows = txn.exec_params(due + " ORDER BY h.created_at LIMIT $2", placed_before_ms, limit);
  } else {
    rows = txn.exec_params(
        due +
            " AND ledger_partition_of(h.from_user_id, $3) = ANY ($4::bigint[])"
            " ORDER BY h.created_at LIMIT $2",
        placed_before_ms, limit, partition_count,
        bigint_array_literal(std::vector<int64_t>(partitions.begin(), partitions.end())));
  }
  std::vector<HoldRecord> holds;
  for (const auto& row : rows) holds.push_back(hold_from_row(row));
  return holds;
}

bool open_account(pqxx::connection& conn, const std::string& user_id,
                  const std::string& created_at) {
  pqxx::work txn(conn);
  const auto& currency = domain::configured_currencies().default_currency();
  auto rows = txn.exec_params(
      "INSERT INTO accounts (account_id, user_id, currency, balance, created_at)"
      " VALUES ($1, $1, $2, $3::numeric, coalesce(nullif($4, '')::timestamptz, now()))"
      " ON CONFLICT (account_id) DO NOTHING RETURNING account_id",
      user_id, currency.code, money(0, currency.exponent), created_at);
  txn.commit();
  return !rows.empty();
}

namespace {

InTransit in_transit_row(const pqxx::row& row) {
  InTransit leg;
  leg.transfer_id = row[0].c_str();
  leg.from_user_id = row[1].c_str();
  leg.to_user_id = row[2].c_str();
  leg.exponent = exponent_of(row[6].as<std::string>());
  leg.amount = minor_units(row[3], leg.exponent);
  leg.to_partition = row[4].as<int>();
  leg.created_at = row[5].c_str();
  leg.transaction_id = row[7].c_str();
  leg.posting = row[8].as<int>();
  return leg;
}

const std::string kInTransitColumns =
    std::string(
        "SELECT m.transfer_id::text, m.from_user_id::text, m.to_user_id::text, m.amount::text,"
        " m.to_partition, to_char(m.created_at AT TIME ZONE 'UTC', '") +
    kRfc3339 +
    "'), a.currency, coalesce(m.transaction_id::text, ''), coalesce(m.posting, -1)"
    " FROM transfers_in_transit m JOIN accounts a ON a.account_id = m.from_user_id ";

}  // namespace

std::vector<InTransit> in_transit_for(pqxx::connection& conn, const std::vector<int>& partitions,
                                      int limit) {
  std::vector<InTransit> legs;
  if (partitions.empty()) return legs;
  std::vector<int64_t> wanted(partitions.begin(), partitions.end());
  pqxx::nontransaction txn(conn);
  auto rows = txn.exec_params(kInTransitColumns +
                                  "WHERE m.to_partition = ANY ($1::bigint[]) "
                                  "ORDER BY m.created_at LIMIT $2",
                              bigint_array_literal(wanted), limit);
  legs.reserve(rows.size());
  for (const auto& row : rows) legs.push_back(in_transit_row(row));
  return legs;
}

InTransitSummary in_transit_summary(pqxx::connection& conn, int limit) {
  InTransitSummary summary;
  pqxx::read_transaction txn(conn);  // one snapshot: the total and the rows agree
  // Totals per currency (money of two currencies is never added together); `total` is the
  // default currency's.
  auto totals = txn.exec(
      "SELECT a.currency, count(*), sum(m.amount)::text,"
      " (extract(epoch FROM now() - min(m.created_at)) * 1000)::bigint"
      " FROM transfers_in_transit m JOIN accounts a ON a.account_id = m.from_user_id"
      " GROUP BY a.currency");
  const auto& fallback = domain::configured_currencies().default_currency();
  for (const auto& row : totals) {
    const auto code = row[0].as<std::string>();
    const int exponent = exponent_of(code);
    const int64_t total = minor_units(row[2], exponent);
    summary.by_currency.push_back({code, exponent, total});
    summary.count += row[1].as<int64_t>();
    summary.oldest_age_ms = std::max(summary.oldest_age_ms, row[3].as<int64_t>());
    if (code == fallback.code) summary.total = total;
  }
  auto rows = txn.exec_params(kInTransitColumns + "ORDER BY m.created_at LIMIT $1", limit);
  for (const auto& row : rows) summary.oldest.push_back(in_transit_row(row));
  return summary;
}

}  // namespace wallet::persistence
