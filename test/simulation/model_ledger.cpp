#include "test/simulation/model_ledger.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "domain/currency.hpp"
#include "domain/partitioning.hpp"

namespace wallet::simulation {

using persistence::AccountStatus;
using persistence::ApplyStatus;
using persistence::EntryKind;
using persistence::TransactionDecision;

bool ModelState::apply(const std::vector<const persistence::LedgerMutation*>& batch,
                       std::string* why, ApplyStatus* refusal) {
  if (refusal) *refusal = ApplyStatus::rejected;
  auto refuse = [why](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  // accounts: the balance each touched account starts from (its first entry's old balance) and
  // ends at (its last entry's new balance); the update is conditional on the start.
  std::map<std::string, std::pair<int64_t, int64_t>> spans;
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.entry.id);
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) {
      auto it = spans.try_emplace(e.user_id, e.old_balance, e.new_balance).first;
      it->second.second = e.new_balance;
      if (!balances.count(e.user_id)) return refuse("foreign key: no such user");
      // (010 dropped the rows' old/new_balance >= 0: an overdraft line allows negative ones.)
      if (e.change == 0) return refuse("check: balance_change <> 0");
      if (e.old_balance + e.change != e.new_balance) return refuse("check: old + change = new");
      // 011: transfer_id on the rows of a transfer only; posting_debit is a debit too.
      const bool transfer =
          e.kind == EntryKind::transfer_debit || e.kind == EntryKind::transfer_credit;
      if (transfer == e.transfer_id.empty()) return refuse("check: transfer_id iff transfer");
      const bool debit = e.kind == EntryKind::transfer_debit || e.kind == EntryKind::withdrawal ||
                         e.kind == EntryKind::posting_debit;
      if (debit != (e.change < 0)) return refuse("check: debits are negative");
      if (!ids.insert(e.id).second) return refuse("primary key: transactions.id");
    }
    if (mutation->outcome) {
      std::pair<std::string, std::string> key{mutation->outcome->endpoint, mutation->outcome->key};
      if (!keys.insert(key).second) return refuse("primary key: idempotency_keys");
      if (key.second.empty() || key.second.size() > 255) return refuse("check: key length");
    }
  }
  for (const auto& [user_id, span] : spans) {
    if (balances.at(user_id) != span.first) return refuse("stale balance (WL001)");
    // 010: and only on an account open, or frozen with no debit row in the batch (a credit in
    // the same batch does not hide one), with the rules it has before the batch (its own changes
    // of rules come after its rows).
    const auto rules_before = rules_of(user_id);
    bool debited = false;
    for (const auto* mutation : batch) {
      for (const auto& e : mutation->entries) debited |= e.user_id == user_id && e.change < 0;
    }
    if (rules_before.status != AccountStatus::open &&
        !(rules_before.status == AccountStatus::frozen && !debited)) {
      return refuse("account status (WL001)");
    }
    if (span.second < -rules_before.overdraft_limit) {
      return refuse("check: accounts_balance_within_limit");
    }
  }
  // 007: one debit and one credit per transfer (transactions_transfer_leg).
  std::set<std::pair<std::string, int>> legs;
  for (const auto& row : rows) {
    if (!row.entry.transfer_id.empty()) {
      legs.insert({row.entry.transfer_id, static_cast<int>(row.entry.kind)});
    }
  }
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) {
      if (!e.transfer_id.empty() &&
          !legs.insert({e.transfer_id, static_cast<int>(e.kind)}).second) {
        return refuse("unique: transactions_transfer_leg");
      }
    }
  }
  // 007: departures are inserted before the rows (a capture may be checked against them).
  std::map<std::string, persistence::InTransit> in_transit_after = in_transit;
  for (const auto* mutation : batch) {
    for (const auto& d : mutation->departures) {
      if (!balances.count(d.from_user_id) || !balances.count(d.to_user_id)) {
        return refuse("foreign key: transfers_in_transit's users");
      }
      if (rules_of(d.to_user_id).status == AccountStatus::closed) {
        return refuse("a credit in transit names a closed account (WL008)");
      }
      if (d.amount <= 0) return refuse("check: transfers_in_transit.amount > 0");
      if (!in_transit_after.emplace(d.transfer_id, d).second) {
        return refuse("primary key: transfers_in_transit");
      }
    }
  }
  // After the departures and the rows, as in the SQL: an outcome under a key that holds a live one
  // (ModelLedger forgets expired ones before it commits, as the SQL replaces them) refuses the
  // batch (WL011).
  for (const auto& key : keys) {
    if (outcomes.count(key)) {
      if (why) *why = "an idempotency key is already stored (WL011)";
      if (refusal) *refusal = ApplyStatus::key_taken;
      return false;
    }
  }
  // 011, in the order of the SQL (after the rows, before the holds): the transactions' rows and
  // records, then the reversals, whose guard refuses the batch as over_reversed (WL009).
  if (!insert_transactions(batch, why)) return false;
  std::map<std::string, ModelReversal> reversals_after = reversals;
  // 012: the commit of a transaction across owners is its decision `commit`, refused as a whole
  // (WL010) when `abort` was recorded first.
  for (const auto* mutation : batch) {
    for (const auto& t : mutation->transactions) {
      if (!t.decides) continue;
      auto decided = decisions.find(t.transaction_id);
      if (decided != decisions.end() && decided->second == TransactionDecision::abort) {
        if (why) *why = "a transaction across owners aborted first (WL010)";
        if (refusal) *refusal = ApplyStatus::aborted;
        return false;
      }
    }
  }
  if (!upsert_reversals(batch, reversals_after, why, refusal)) return false;
  // Holds, in the order of the SQL: new holds are inserted, then the closings update them.
  std::map<std::string, persistence::HoldRecord> holds_after = holds;
  for (const auto* mutation : batch) {
    for (const auto& h : mutation->new_holds) {
      if (!holds_after.emplace(h.hold_id, h).second) return refuse("primary key: holds.hold_id");
      if (!balances.count(h.from_user_id) || !balances.count(h.to_user_id)) {
        return refuse("foreign key: holds' users");
      }
      if (h.amount <= 0) return refuse("check: holds.amount > 0");
      if (!h.transaction_id.empty() && rules_of(h.to_user_id).status == AccountStatus::closed) {
        return refuse("a hold of a transaction for a closed payee (WL008)");
      }
      if (rules_of(h.from_user_id).status != AccountStatus::open) {
        return refuse("a new hold of an account that is not open (WL001)");
      }
      if (h.from_user_id == h.to_user_id) return refuse("check: from_user_id <> to_user_id");
      // 012: a hold of a transaction names it and its posting (the store sends both), once per
      // posting (holds_transaction_posting).
      if (!h.transaction_id.empty()) {
        for (const auto& [id, other] : holds_after) {
          if (id != h.hold_id && other.transaction_id == h.transaction_id &&
              other.posting == h.posting) {
            return refuse("unique: holds_transaction_posting");
          }
        }
      }
      holds_after[h.hold_id].status = "pending";
      holds_after[h.hold_id].transfer_id.clear();
      holds_after[h.hold_id].captured_amount = 0;
    }
  }
  std::set<std::string> closed_hold_ids;
  std::vector<std::string> captured;
  for (const auto* mutation : batch) {
    for (const auto& c : mutation->hold_changes) {
      auto it = holds_after.find(c.hold_id);
      if (it == holds_after.end() || it->second.status != "pending" ||
          !closed_hold_ids.insert(c.hold_id).second) {
        return refuse("hold not pending (WL002)");
      }
      if (c.status != "captured" && c.status != "voided" && c.status != "expired") {
        return refuse("check: holds.status");
      }
      auto& hold = it->second;
      hold.status = c.status;
      // The store sends a transfer and an amount only with a capture.
      hold.transfer_id = c.status == "captured" ? c.transfer_id : "";
      hold.captured_amount = c.status == "captured" ? c.captured_amount : 0;
      if (c.status == "captured") {
        if (hold.transfer_id.empty()) return refuse("check: captured iff transfer_id");
        if (hold.captured_amount <= 0 || hold.captured_amount > hold.amount) {
          return refuse("check: 0 < captured_amount <= amount");
        }
        captured.push_back(c.hold_id);
      }
    }
  }
  std::set<std::string> capture_transfers;
  for (const auto& [id, hold] : holds_after) {
    if (!hold.transfer_id.empty() && !capture_transfers.insert(hold.transfer_id).second) {
      return refuse("unique: holds_transfer");
    }
  }
  // WL003: a captured hold names a transfer whose debit of its payer and credit of its payee, by
  // the captured amount, are in the ledger (this batch's rows included).
  for (const auto& hold_id : captured) {
    const auto& hold = holds_after.at(hold_id);
    int matching = 0;
    auto count = [&](const persistence::LedgerEntry& e) {
      if (!hold.transaction_id.empty()) {
        // 012: a hold of a transaction is captured as its posting's rows.
        if (e.transaction_id != hold.transaction_id || e.posting != hold.posting) return;
        if ((e.kind == EntryKind::posting_debit && e.user_id == hold.from_user_id &&
             e.change == -hold.captured_amount) ||
            (e.kind == EntryKind::posting_credit && e.user_id == hold.to_user_id &&
             e.change == hold.captured_amount)) {
          ++matching;
        }
        return;
      }
      if (e.transfer_id != hold.transfer_id) return;
      if ((e.kind == EntryKind::transfer_debit && e.user_id == hold.from_user_id &&
           e.change == -hold.captured_amount) ||
          (e.kind == EntryKind::transfer_credit && e.user_id == hold.to_user_id &&
           e.change == hold.captured_amount)) {
        ++matching;
      }
    };
    for (const auto& row : rows) count(row.entry);
    for (const auto* mutation : batch) {
      for (const auto& e : mutation->entries) count(e);
    }
    auto moving = in_transit_after.find(hold.transfer_id);
    if (moving != in_transit_after.end() && moving->second.to_user_id == hold.to_user_id &&
        moving->second.amount == hold.captured_amount) {
      ++matching;  // 007: the payee has another owner; its credit follows
    }
    if (matching != 2) return refuse("a captured hold has no matching transfer (WL003)");
  }
  // WL004: pending holds (after the batch) must not exceed the balance (after the batch) plus the
  // overdraft line (before the batch's changes of rules) of every account whose balance the batch
  // lowered, and of every payer of a new hold.
  auto held_after = [&holds_after](const std::string& user_id) {
    int64_t held = 0;
    for (const auto& [id, hold] : holds_after) {
      if (hold.from_user_id == user_id && hold.status == "pending") held += hold.amount;
    }
    return held;
  };
  auto balance_after = [&spans, this](const std::string& user_id) {
    auto span = spans.find(user_id);
    return span != spans.end() ? span->second.second : balances.at(user_id);
  };
  for (const auto& [user_id, span] : spans) {
    if (span.second < span.first &&
        span.second + rules_of(user_id).overdraft_limit < held_after(user_id)) {
      return refuse("pending holds exceed the balance (WL004)");
    }
  }
  for (const auto* mutation : batch) {
    for (const auto& h : mutation->new_holds) {
      if (balance_after(h.from_user_id) + rules_of(h.from_user_id).overdraft_limit <
          held_after(h.from_user_id)) {
        return refuse("pending holds exceed the balance (WL004)");
      }
    }
  }
  std::map<std::string, ModelRules> rules_after = rules;
  std::vector<RulesChange> changes;
  if (!apply_account_changes(batch, balance_after, held_after, holds_after, in_transit_after,
                             rules_after, changes, why)) {
    return false;
  }
  // 007: each arrival deletes its in-transit row (same payee and amount), else WL006.
  for (const auto* mutation : batch) {
    for (const auto& a : mutation->arrivals) {
      auto it = in_transit_after.find(a.transfer_id);
      if (it == in_transit_after.end() || it->second.to_user_id != a.to_user_id ||
          it->second.amount != a.amount) {
        return refuse("credit not in transit (WL006)");
      }
      in_transit_after.erase(it);
    }
  }
  in_transit = std::move(in_transit_after);
  for (const auto& [user_id, span] : spans) balances[user_id] = span.second;
  ++commits;
  for (const auto* mutation : batch) {
    for (const auto& change : mutation->account_changes) change_ids.insert(change.change_id);
  }
  rules = std::move(rules_after);
  for (auto& change : changes) {
    change.at.commit = commits;
    rules_log.push_back(std::move(change));
  }
  for (size_t index = 0; index < batch.size(); ++index) {
    const auto* mutation = batch[index];
    const CommitPoint at{commits, static_cast<int>(index)};
    for (const auto& h : mutation->new_holds) hold_created[h.hold_id] = at;
    for (const auto& c : mutation->hold_changes) hold_closed[c.hold_id] = at;
    for (const auto& e : mutation->entries) {
      const int64_t created_ms = rows.empty() ? now_ms : std::max(now_ms, rows.back().created_ms);
      rows.push_back({e, rows.size() + 1, at, created_ms});
    }
    for (const auto& t : mutation->transactions) {
      transactions[t.transaction_id] = {t, at};
      if (t.decides) decisions.emplace(t.transaction_id, TransactionDecision::commit);
    }
    if (mutation->outcome) {
      const persistence::KeyRef key{mutation->outcome->endpoint, mutation->outcome->key};
      outcomes[key] = *mutation->outcome;
      outcome_created_ms[key] = now_ms;
      outcome_log.push_back({*mutation->outcome, now_ms});
    }
  }
  holds = std::move(holds_after);
  reversals = std::move(reversals_after);
  return true;
}

namespace {

// A numeric held in units of 10^-from, in units of 10^-to (to >= from).
int64_t rescaled(int64_t units, int from, int to) { return units * domain::pow10(to - from); }

// Characters of UTF-8 text (Postgres' length()).
size_t characters(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

bool ModelState::insert_transactions(const std::vector<const persistence::LedgerMutation*>& batch,
                                     std::string* why) const {
  auto refuse = [why](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  // The rows: a posting's kinds need its transaction, its index is 0..31 (the store sends the
  // index only with a transaction id), one debit and one credit row per posting.
  std::set<std::tuple<std::string, int, EntryKind>> legs;
  for (const auto& row : rows) {
    const auto& e = row.entry;
    if (!e.transaction_id.empty()) legs.insert({e.transaction_id, e.posting, e.kind});
  }
  for (const auto* mutation : batch) {
    for (const auto& e : mutation->entries) {
      const bool posting =
          e.kind == EntryKind::posting_debit || e.kind == EntryKind::posting_credit;
      if (e.transaction_id.empty()) {
        if (posting) return refuse("check: transactions_postings_named");
        continue;
      }
      if (e.posting < 0 || e.posting > 31) return refuse("check: transactions_postings_named");
      if (!legs.insert({e.transaction_id, e.posting, e.kind}).second) {
        return refuse("unique: transactions_posting_leg");
      }
    }
  }
  // ledger_transactions.
  std::set<std::string> ids;
  for (const auto* mutation : batch) {
    for (const auto& t : mutation->transactions) {
      if (transactions.count(t.transaction_id) || !ids.insert(t.transaction_id).second) {
        return refuse("primary key: ledger_transactions");
      }
      const auto postings = nlohmann::json::parse(t.postings, nullptr, false);
      if (!postings.is_array() || postings.empty() || postings.size() > 32) {
        return refuse("check: ledger_transactions.postings");
      }
      if (!nlohmann::json::parse(t.metadata, nullptr, false).is_object()) {
        return refuse("check: ledger_transactions.metadata");
      }
      if (t.reference && (t.reference->empty() || characters(*t.reference) > 128)) {
        return refuse("check: ledger_transactions.reference");
      }
      if (t.created_at.empty()) return refuse("not null: ledger_transactions.created_at");
    }
  }
  return true;
}

// One INSERT ... ON CONFLICT DO UPDATE, row by row in batch order: each proposed row is checked
// first (a CHECK violation: WL009), then a row this statement already inserted or updated cannot
// be touched again (a cardinality violation: rejected), then the updated row is checked (its
// reversible stays the first reversal's: WL009).
bool ModelState::upsert_reversals(const std::vector<const persistence::LedgerMutation*>& batch,
                                  std::map<std::string, ModelReversal>& reversals_after,
                                  std::string* why, ApplyStatus* refusal) const {
  auto over_reversed = [why, refusal](const char* reason) {
    if (why) *why = reason;
    if (refusal) *refusal = ApplyStatus::over_reversed;
    return false;
  };
  std::set<std::string> touched;
  for (const auto* mutation : batch) {
    for (const auto& t : mutation->transactions) {
      if (t.reverses.empty()) continue;
      if (t.reversible <= 0 || t.reversed_now <= 0) {
        return over_reversed("check: transaction_reversals amounts > 0 (WL009)");
      }
      if (t.reversed_now > t.reversible) {
        return over_reversed("check: transaction_reversals_within (WL009)");
      }
      if (!touched.insert(t.reverses).second) {
        if (why) *why = "transaction_reversals: ON CONFLICT DO UPDATE affects a row twice";
        return false;
      }
      auto [it, fresh] = reversals_after.try_emplace(
          t.reverses, ModelReversal{t.reversible, t.reversed_now, t.exponent});
      if (fresh) continue;
      auto& row = it->second;
      const int exponent = std::max(row.exponent, t.exponent);
      const int64_t reversible = rescaled(row.reversible, row.exponent, exponent);
      const int64_t reversed = rescaled(row.reversed, row.exponent, exponent) +
                               rescaled(t.reversed_now, t.exponent, exponent);
      if (reversed > reversible) {
        return over_reversed("check: transaction_reversals_within (WL009)");
      }
      row = ModelReversal{reversible, reversed, exponent};
    }
  }
  return true;
}

std::string ModelState::currency_of(const std::string& account_id) const {
  auto it = currencies.find(account_id);
  return it != currencies.end() ? it->second
                                : domain::configured_currencies().default_currency().code;
}

// ledger_apply_batch's account_changes, after the batch's rows and holds: closing needs no
// pending hold and no credit in transit to the account (WL007; the batch's departures are in
// transit already, its arrivals not yet landed); a closed account, or one named twice in a batch
// (UPDATE ... FROM updates a row once), is not matched (WL008); then the table's CHECKs on the
// balance after the batch and the new line, and pending holds within balance plus line (WL004).
bool ModelState::apply_account_changes(
    const std::vector<const persistence::LedgerMutation*>& batch,
    const std::function<int64_t(const std::string&)>& balance_after,
    const std::function<int64_t(const std::string&)>& held_after,
    const std::map<std::string, persistence::HoldRecord>& holds_after,
    const std::map<std::string, persistence::InTransit>& in_transit_after,
    std::map<std::string, ModelRules>& rules_after, std::vector<RulesChange>& changes,
    std::string* why) const {
  auto refuse = [why](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  std::set<std::string> changed;
  for (size_t index = 0; index < batch.size(); ++index) {
    for (const auto& c : batch[index]->account_changes) {
      if (!balances.count(c.account_id)) return refuse("no such account (WL008)");
      std::optional<AccountStatus> status;
      if (c.status) {
        status = persistence::parse_account_status(*c.status);
        if (!status) return refuse("check: accounts_status_known");
      }
      if (status == AccountStatus::closed) {
        if (held_after(c.account_id) > 0) return refuse("closing with a pending hold (WL007)");
        for (const auto& [id, leg] : in_transit_after) {
          if (leg.to_user_id == c.account_id) {
            return refuse("closing with a credit in transit (WL007)");
          }
        }
        for (const auto& [id, hold] : holds_after) {
          if (hold.to_user_id == c.account_id && hold.status == "pending" &&
              !hold.transaction_id.empty()) {
            return refuse("closing the payee of a pending hold of a transaction (WL007)");
          }
        }
      }
      if (status == AccountStatus::frozen) {
        for (const auto& [id, hold] : holds_after) {
          if (hold.from_user_id == c.account_id && hold.status == "pending" &&
              !hold.transaction_id.empty()) {
            return refuse("freezing the payer of a pending hold of a transaction (WL007)");
          }
        }
      }
      const ModelRules before = rules_of(c.account_id);
      if (before.status == AccountStatus::closed || !changed.insert(c.account_id).second) {
        return refuse("account closed (WL008)");
      }
      ModelRules after = before;
      if (status) after.status = *status;
      if (c.overdraft_limit) after.overdraft_limit = *c.overdraft_limit;
      const int64_t balance = balance_after(c.account_id);
      if (after.overdraft_limit < 0) return refuse("check: accounts_overdraft_limit_not_negative");
      if (balance < -after.overdraft_limit) return refuse("check: accounts_balance_within_limit");
      if (after.status == AccountStatus::closed && balance != 0) {
        return refuse("check: accounts_closed_are_empty");
      }
      if (balance + after.overdraft_limit < held_after(c.account_id)) {
        return refuse("pending holds exceed the balance and overdraft line (WL004)");
      }
      rules_after[c.account_id] = after;
      changes.push_back({CommitPoint{0, static_cast<int>(index)}, c.account_id, c.status,
                         c.overdraft_limit, before, after});
    }
  }
  return true;
}

void ModelState::create_partitions(int count) {
  if (!partition_owner.empty()) return;
  for (int p = 0; p < count; ++p) partition_owner[p] = ModelPartition{};
}

int64_t ModelState::take_partition(int partition, const std::string& instance) {
  auto& row = partition_owner.at(partition);
  row.owner = instance;
  return ++row.epoch;
}

ApplyStatus ModelState::commit(const std::vector<const persistence::LedgerMutation*>& batch,
                               const persistence::OwnershipClaim* claim, std::string* why) {
  if (claim && !claim->instance_id.empty()) {
    auto fenced = [why](const char* reason) {
      if (why) *why = reason;
      return ApplyStatus::fenced;
    };
    const int partitions = static_cast<int>(partition_owner.size());
    if (partitions == 0) return fenced("fence: no partitions exist (WL005)");
    std::set<int> claimed;
    for (const auto& [partition, epoch] : claim->epochs) claimed.insert(partition);
    // The accounts the batch writes: balances it moves, payers of holds it creates or closes,
    // accounts whose rules it changes.
    std::set<std::string> touched;
    for (const auto* mutation : batch) {
      for (const auto& e : mutation->entries) touched.insert(e.user_id);
      for (const auto& h : mutation->new_holds) touched.insert(h.from_user_id);
      for (const auto& c : mutation->account_changes) touched.insert(c.account_id);
      for (const auto& c : mutation->hold_changes) {
        auto it = holds.find(c.hold_id);
        if (it != holds.end()) touched.insert(it->second.from_user_id);
      }
    }
    for (const auto& user_id : touched) {
      if (!claimed.count(domain::partition_of(user_id, partitions))) {
        return fenced("fence: the batch touches a partition it does not claim (WL005)");
      }
    }
    size_t current = 0;
    for (const auto& [partition, epoch] : claim->epochs) {
      auto it = partition_owner.find(partition);
      if (it != partition_owner.end() && it->second.owner == claim->instance_id &&
          it->second.epoch == epoch) {
        ++current;
      }
    }
    if (current != claim->epochs.size()) return fenced("fence: partition moved (WL005)");
  }
  ApplyStatus refusal = ApplyStatus::rejected;
  return apply(batch, why, &refusal) ? ApplyStatus::committed : refusal;
}

bool ModelState::contains(const persistence::LedgerMutation& probe) const {
  if (!probe.entries.empty()) {
    for (const auto& row : rows) {
      if (row.entry.id == probe.entries.front().id) return true;
    }
    return false;
  }
  if (probe.outcome) {
    auto it = outcomes.find({probe.outcome->endpoint, probe.outcome->key});
    return it != outcomes.end() && it->second.request_hash == probe.outcome->request_hash &&
           it->second.status == probe.outcome->status && it->second.body == probe.outcome->body;
  }
  if (!probe.transactions.empty()) {
    return transactions.count(probe.transactions.front().transaction_id) > 0;
  }
  if (!probe.new_holds.empty()) return holds.count(probe.new_holds.front().hold_id) > 0;
  if (!probe.hold_changes.empty()) {
    auto it = holds.find(probe.hold_changes.front().hold_id);
    return it != holds.end() && it->second.status == probe.hold_changes.front().status;
  }
  if (!probe.account_changes.empty()) {
    const auto& change = probe.account_changes.front();
    return change_ids.count(change.change_id) > 0;
  }
  return false;
}

namespace {
std::string key_names(const std::vector<persistence::KeyRef>& keys) {
  std::string names;
  for (const auto& key : keys) names += " " + key.second;
  return names;
}

domain::Error unavailable() {
  return {domain::ErrorCode::unavailable, "the database is unavailable, retry later"};
}
}  // namespace

void ModelLedger::load_account(
    const std::string& user_id,
    std::function<void(domain::Result<std::optional<persistence::AccountRecord>>)> done) {
  using Loaded = domain::Result<std::optional<persistence::AccountRecord>>;
  Pending load{"load " + user_id.substr(24), false, nullptr, true, 0, user_id};
  load.complete = [this, user_id, done](Fault fault) {
    if (fault != Fault::none) return done(unavailable());
    Loaded loaded{std::optional<persistence::AccountRecord>{}};
    auto it = state_.balances.find(user_id);
    if (it != state_.balances.end()) {
      // Every account of the model is a user's default account (its own owner), in its currency
      // (the default one unless set), with its rules.
      persistence::AccountRecord account{it->second, {}};
      account.user_id = user_id;
      account.currency = state_.currency_of(user_id);
      account.exponent = domain::configured_currencies().find(account.currency)->exponent;
      const auto rules = state_.rules_of(user_id);
      account.overdraft_limit = rules.overdraft_limit;
      account.status = rules.status;
      for (const auto& [id, hold] : state_.holds) {
        if (hold.from_user_id == user_id && hold.status == "pending") {
          account.pending_holds.push_back(hold);
        }
      }
      loaded = std::optional<persistence::AccountRecord>{std::move(account)};
    }
    if (late_reply_percent_ > 0 && chance_ && chance_(late_reply_percent_)) {
      // Read now, answered later: what the account held at this moment reaches its actor after
      // whatever happens meanwhile (another instance's commits, a partition coming back).
      Pending reply{"reply of load " + user_id.substr(24) + " (read earlier)",
                    false,
                    nullptr,
                    true,
                    0,
                    user_id,
                    true};
      reply.complete = [done, loaded](Fault late) {
        if (late != Fault::none) return done(unavailable());
        done(loaded);
      };
      pending_.push_back(std::move(reply));
      return;
    }
    done(std::move(loaded));
  };
  pending_.push_back(std::move(load));
}

void ModelLedger::find_hold(
    const std::string& hold_id,
    std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> done) {
  pending_.push_back({"find hold " + hold_id.substr(0, 8), false,
                      [this, hold_id, done](Fault fault) {
                        if (fault != Fault::none) return done(unavailable());
                        auto it = state_.holds.find(hold_id);
                        if (it == state_.holds.end()) {
                          return done(std::optional<persistence::HoldRecord>{});
                        }
                        done(std::optional<persistence::HoldRecord>{it->second});
                      },
                      true});
}

bool ModelLedger::live_or_forget(const persistence::KeyRef& key) {
  auto it = state_.outcomes.find(key);
  if (it == state_.outcomes.end()) return false;
  const int64_t age_ms = now_ms() - state_.outcome_created_ms[key];
  const int64_t retention_ms = forget_after_ms_ > 0 ? forget_after_ms_ : ttl_ms_;
  if (retention_ms <= 0 || age_ms < retention_ms) return true;
  state_.outcomes.erase(it);
  state_.outcome_created_ms.erase(key);
  return false;
}

void ModelLedger::find_outcomes(
    std::vector<persistence::KeyRef> keys,
    std::function<void(domain::Result<std::vector<persistence::IdempotencyOutcome>>)> done) {
  pending_.push_back({"lookup " + std::to_string(keys.size()) + " keys:" + key_names(keys), false,
                      [this, keys, done](Fault fault) {
                        if (fault != Fault::none) return done(unavailable());
                        std::vector<persistence::IdempotencyOutcome> found;
                        for (const auto& key : keys) {
                          if (!live_or_forget(key)) continue;
                          found.push_back(state_.outcomes.at(key));
                          found.back().age_ms = now_ms() - state_.outcome_created_ms.at(key);
                        }
                        done(std::move(found));
                      },
                      true});
}

namespace {

// The accounts a mutation writes: balances it moves, payers of holds it creates or closes,
// accounts whose rules it changes.
std::vector<std::string> accounts_written(const persistence::LedgerMutation& m,
                                          const ModelState& state) {
  std::vector<std::string> accounts;
  for (const auto& entry : m.entries) accounts.push_back(entry.user_id);
  for (const auto& hold : m.new_holds) accounts.push_back(hold.from_user_id);
  for (const auto& change : m.account_changes) accounts.push_back(change.account_id);
  for (const auto& change : m.hold_changes) {
    auto it = state.holds.find(change.hold_id);
    if (it != state.holds.end()) accounts.push_back(it->second.from_user_id);
  }
  return accounts;
}

}  // namespace

void ModelLedger::occupy(size_t lane, const std::string& what) {
  if (lane >= lanes_busy_.size()) {
    violations_.push_back(what + " on lane " + std::to_string(lane) + ", which does not exist");
    return;
  }
  if (lanes_busy_[lane]) {
    violations_.push_back(what + " on lane " + std::to_string(lane) + " while it was busy");
  }
  lanes_busy_[lane] = true;
}

void ModelLedger::apply(size_t lane, std::vector<const persistence::LedgerMutation*> batch,
                        std::function<void(ApplyStatus)> done) {
  const std::string what =
      "apply " + std::to_string(batch.size()) + " mutations (lane " + std::to_string(lane) + ")";
  occupy(lane, what);
  std::vector<std::string> accounts;
  for (const auto* m : batch) {
    for (auto& account : accounts_written(*m, state_)) {
      auto [it, fresh] = writing_.emplace(account, lane);
      if (!fresh && it->second != lane) {
        violations_.push_back(what + " writes " + account + ", which lane " +
                              std::to_string(it->second) + " is writing");
      }
      if (fresh) accounts.push_back(std::move(account));
    }
  }
  // The writer keeps the mutations alive until it is answered, but copy them: a model that reads
  // freed memory would hide exactly the bugs it is here to find.
  std::vector<persistence::LedgerMutation> copy;
  for (const auto* m : batch) copy.push_back(*m);
  pending_.push_back(
      {what, true,
       // The claim as the writer sends it: taken now, checked at commit.
       [this, lane, accounts, copy, claim = claim_, done](Fault fault) {
         release(lane);
         for (const auto& account : accounts) writing_.erase(account);
         std::vector<const persistence::LedgerMutation*> ops;
         for (const auto& m : copy) ops.push_back(&m);
         if (fault == Fault::fail) return done(ApplyStatus::unavailable);
         if (fault == Fault::in_doubt_lost) return done(ApplyStatus::in_doubt);
         state_.now_ms = now_ms();
         // An expired outcome no longer holds its key: the commit replaces it (as the SQL does).
         for (const auto& m : copy) {
           if (m.outcome) live_or_forget({m.outcome->endpoint, m.outcome->key});
         }
         std::string why;
         const auto status = state_.commit(ops, &claim, &why);
         if (status == ApplyStatus::rejected || status == ApplyStatus::over_reversed ||
             status == ApplyStatus::key_taken) {
           ++refusals_[why];
         }
         if (status != ApplyStatus::committed) return done(status);
         if (on_commit) on_commit(claim);
         done(fault == Fault::in_doubt_committed ? ApplyStatus::in_doubt : ApplyStatus::committed);
       }});
}

void ModelLedger::was_committed(size_t lane, const persistence::LedgerMutation& probe,
                                std::function<void(domain::Result<bool>)> done) {
  occupy(lane, "was_committed");
  pending_.push_back({"was_committed (lane " + std::to_string(lane) + ")", false,
                      [this, lane, probe, done](Fault fault) {
                        release(lane);
                        if (fault != Fault::none) return done(unavailable());
                        // An expired outcome is no trace of this commit (as in the SQL).
                        if (probe.outcome)
                          live_or_forget({probe.outcome->endpoint, probe.outcome->key});
                        done(state_.contains(probe));
                      }});
}

void ModelLedger::purge_expired_outcomes(std::function<void(domain::Result<size_t>)> done) {
  std::vector<persistence::KeyRef> keys;
  for (const auto& [key, outcome] : state_.outcomes) keys.push_back(key);
  size_t purged = 0;
  for (const auto& key : keys) purged += live_or_forget(key) ? 0 : 1;
  done(purged);
}

void ModelLedger::in_transit_due(
    std::vector<int> partitions, int limit,
    std::function<void(domain::Result<persistence::InTransitSummary>)> done) {
  pending_.push_back(
      {"in transit", false, [this, partitions = std::move(partitions), limit, done](Fault fault) {
         if (fault != Fault::none) return done(unavailable());
         persistence::InTransitSummary summary;
         for (const auto& [id, leg] : state_.in_transit) {
           ++summary.count;
           summary.total += leg.amount;
           const bool due = std::find(partitions.begin(), partitions.end(), leg.to_partition) !=
                            partitions.end();
           if (due && static_cast<int>(summary.oldest.size()) < limit) {
             summary.oldest.push_back(leg);
           }
         }
         done(std::move(summary));
       }});
}

void ModelLedger::decide(const std::string& transaction_id, bool abort_if_none,
                         std::function<void(domain::Result<TransactionDecision>)> done) {
  pending_.push_back(
      {"decide " + transaction_id, false, [this, transaction_id, abort_if_none, done](Fault fault) {
         if (fault != Fault::none) return done(unavailable());
         auto& decisions = state_.decisions;
         if (abort_if_none) {
           decisions.emplace(transaction_id, TransactionDecision::abort);
         }
         auto it = decisions.find(transaction_id);
         done(it == decisions.end() ? TransactionDecision::none : it->second);
       }});
}

void ModelLedger::transaction_holds_due(
    std::vector<int> partitions, int partition_count, int64_t placed_before_ms, int limit,
    std::function<void(domain::Result<std::vector<persistence::HoldRecord>>)> done) {
  // The simulation decides when the resolver runs: every pending hold of a transaction whose
  // payer lies in one of `partitions` (any, when empty) is due, whatever its age (the service
  // reads placed_before_ms off the wall clock).
  (void)placed_before_ms;
  pending_.push_back(
      {"transaction holds due", false,
       [this, partitions = std::move(partitions), partition_count, limit, done](Fault fault) {
         if (fault != Fault::none) return done(unavailable());
         std::vector<persistence::HoldRecord> due;
         for (const auto& [id, hold] : state_.holds) {
           if (hold.status != "pending" || hold.transaction_id.empty()) continue;
           if (!partitions.empty() &&
               std::find(partitions.begin(), partitions.end(),
                         domain::partition_of(hold.from_user_id, partition_count)) ==
                   partitions.end()) {
             continue;
           }
           if (static_cast<int>(due.size()) < limit) due.push_back(hold);
         }
         done(std::move(due));
       }});
}

}  // namespace wallet::simulation
