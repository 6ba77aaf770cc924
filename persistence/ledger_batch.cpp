// The write path's encoding: a batch of LedgerMutations as ledger_commit_rows' typed columns or
// as ledger_commit_batch's jsonb document (persistence/ledger_batch.hpp).
#include "persistence/ledger_batch.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "persistence/ledger_store.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {
namespace {

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

// The rows of ledger_commit_batch's document, one kind of row each.
nlohmann::json entry_row(const LedgerEntry& entry) {
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
  return row;
}

nlohmann::json transaction_row(const TransactionRecord& t) {
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
  return row;
}

nlohmann::json new_hold_row(const HoldRecord& hold) {
  nlohmann::json row{{"hold_id", hold.hold_id},
                     {"from_user_id", hold.from_user_id},
                     {"to_user_id", hold.to_user_id},
                     {"amount", money(hold.amount, hold.exponent)},
                     {"expires_at", format_epoch_ms(hold.expires_at_ms)}};
  if (!hold.transaction_id.empty()) {
    row["transaction_id"] = hold.transaction_id;
    row["posting"] = hold.posting;
  }
  return row;
}

nlohmann::json hold_change_row(const HoldChange& change) {
  const bool captured = change.status == "captured";
  return {
      {"hold_id", change.hold_id},
      {"status", change.status},
      {"transfer_id", captured ? nlohmann::json(change.transfer_id) : nlohmann::json()},
      {"captured_amount", captured ? nlohmann::json(money(change.captured_amount, change.exponent))
                                   : nlohmann::json()}};
}

nlohmann::json departure_row(const InTransit& leg) {
  nlohmann::json row{{"transfer_id", leg.transfer_id},
                     {"from_user_id", leg.from_user_id},
                     {"to_user_id", leg.to_user_id},
                     {"amount", money(leg.amount, leg.exponent)},
                     {"to_partition", leg.to_partition}};
  if (!leg.transaction_id.empty()) {
    row["transaction_id"] = leg.transaction_id;
    row["posting"] = leg.posting;
  }
  return row;
}

nlohmann::json arrival_row(const InTransit& leg) {
  return {{"transfer_id", leg.transfer_id},
          {"to_user_id", leg.to_user_id},
          {"amount", money(leg.amount, leg.exponent)}};
}

nlohmann::json account_change_row(const AccountChange& change) {
  nlohmann::json row{{"account_id", change.account_id}, {"change_id", change.change_id}};
  if (change.status) row["status"] = *change.status;
  if (change.overdraft_limit) {
    row["overdraft_limit"] = money(*change.overdraft_limit, change.exponent);
  }
  if (change.metadata) row["metadata"] = nlohmann::json::parse(*change.metadata);
  return row;
}

nlohmann::json outcome_row(const IdempotencyOutcome& o) {
  return {{"endpoint", o.endpoint},
          {"key", o.key},
          {"request_hash", o.request_hash},
          {"status_code", o.status},
          {"response_body", o.body}};
}

}  // namespace

bool moves_balances_only(const std::vector<const LedgerMutation*>& batch) {
  return std::all_of(batch.begin(), batch.end(), [](const LedgerMutation* m) {
    return m->new_holds.empty() && m->hold_changes.empty() && m->departures.empty() &&
           m->arrivals.empty() && m->account_changes.empty() &&
           std::all_of(m->transactions.begin(), m->transactions.end(),
                       [](const TransactionRecord& t) { return t.reverses.empty() && !t.decides; });
  });
}

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
    for (const auto& entry : mutation->entries) entries.push_back(entry_row(entry));
    for (const auto& t : mutation->transactions) transactions.push_back(transaction_row(t));
    for (const auto& hold : mutation->new_holds) new_holds.push_back(new_hold_row(hold));
    for (const auto& change : mutation->hold_changes) {
      hold_changes.push_back(hold_change_row(change));
    }
    for (const auto& leg : mutation->departures) departures.push_back(departure_row(leg));
    for (const auto& leg : mutation->arrivals) arrivals.push_back(arrival_row(leg));
    for (const auto& change : mutation->account_changes) {
      account_changes.push_back(account_change_row(change));
    }
    if (mutation->outcome) outcomes.push_back(outcome_row(*mutation->outcome));
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

}  // namespace wallet::persistence
