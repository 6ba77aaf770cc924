#include "test/simulation/transaction_check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "domain/currency.hpp"
#include "test/simulation/committed_state.hpp"
#include "test/simulation/posting_client.hpp"

namespace wallet::simulation {
namespace {

using actors::kWorld;
using persistence::AccountStatus;
using persistence::EntryKind;

std::string tail(const std::string& id) { return id.size() > 24 ? id.substr(24) : id; }
std::string money(int64_t minor, const std::string& currency) {
  return domain::format_minor(minor, exponent_of(currency)) + " " + currency;
}
std::string client(const ClientOp& op) {
  return "client #" + std::to_string(op.id) + " (" + endpoint(op.kind) + " " + op.postings_json +
         (op.reverses.empty() ? "" : " reversing " + op.reverses) + ")";
}

// The JSON body's field `name` (or error.`name`), when it is a string.
std::string field(const actors::Reply& reply, const char* name, bool in_error) {
  auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
  if (!doc.is_object()) return "";
  const auto* object = &doc;
  if (in_error) {
    auto it = doc.find("error");
    if (it == doc.end() || !it->is_object()) return "";
    object = &*it;
  }
  auto it = object->find(name);
  return it != object->end() && it->is_string() ? it->get<std::string>() : "";
}

// The row a posting's side writes: (posting index, kind) -> (account, change).
using ExpectedRows = std::map<std::pair<int, EntryKind>, std::pair<std::string, int64_t>>;
ExpectedRows expected_rows(const std::vector<actors::Posting>& postings) {
  ExpectedRows rows;
  for (size_t i = 0; i < postings.size(); ++i) {
    const auto& p = postings[i];
    const int index = static_cast<int>(i);
    if (p.from != kWorld) {
      rows[{index, p.to == kWorld ? EntryKind::withdrawal : EntryKind::posting_debit}] = {
          p.from, -p.amount};
    }
    if (p.to != kWorld) {
      rows[{index, p.from == kWorld ? EntryKind::deposit : EntryKind::posting_credit}] = {p.to,
                                                                                          p.amount};
    }
  }
  return rows;
}

// Each transaction's rows, by transaction id.
std::map<std::string, std::vector<const persistence::LedgerEntry*>> rows_by_transaction(
    const ModelState& state) {
  std::map<std::string, std::vector<const persistence::LedgerEntry*>> rows;
  for (const auto& row : state.rows) {
    if (!row.entry.transaction_id.empty()) rows[row.entry.transaction_id].push_back(&row.entry);
  }
  return rows;
}

void check_one_transaction(const ModelState& state, const std::string& id,
                           const std::vector<actors::Posting>& postings,
                           const std::vector<const persistence::LedgerEntry*>& rows,
                           std::vector<std::string>& failures) {
  const std::string who = "transaction " + id;
  auto expected = expected_rows(postings);
  std::map<std::string, int64_t> net;  // per currency, rows against @world legs
  for (const auto* e : rows) {
    const std::pair<int, EntryKind> key{e->posting, e->kind};
    auto it = expected.find(key);
    if (it == expected.end()) {
      failures.push_back(who + " has a " + persistence::entry_kind_name(e->kind) + " row " + e->id +
                         " of posting " + std::to_string(e->posting) +
                         " that none of its postings writes (or a second one)");
      continue;
    }
    const auto& p = postings.at(static_cast<size_t>(e->posting));
    if (it->second.first != e->user_id || it->second.second != e->change) {
      failures.push_back(who + "'s row of posting " + std::to_string(e->posting) + " moves " +
                         money(e->change, p.currency) + " on " + tail(e->user_id) +
                         ", not what the posting says");
    }
    if (state.currency_of(e->user_id) != p.currency) {
      failures.push_back(who + "'s posting " + std::to_string(e->posting) + " in " + p.currency +
                         " wrote a row on account " + tail(e->user_id) + " of " +
                         state.currency_of(e->user_id));
    }
    net[p.currency] += e->change;
    expected.erase(it);
  }
  for (const auto& [key, row] : expected) {
    failures.push_back(who + " committed without its " + persistence::entry_kind_name(key.second) +
                       " row of posting " + std::to_string(key.first) + " (account " +
                       tail(row.first) + "): applied in part");
  }
  for (const auto& p : postings) {
    if (p.from == kWorld) net[p.currency] -= p.amount;
    if (p.to == kWorld) net[p.currency] += p.amount;
  }
  for (const auto& [currency, sum] : net) {
    if (sum != 0) {
      failures.push_back(who + "'s rows do not net to zero counting @world: " +
                         money(sum, currency) + " left over");
    }
  }
}

// Duplicates of a key under way share its one decision (the gate answers them all with the
// outcome of the one that executed): `op` and those of its key still waiting when it was sent.
std::vector<const ClientOp*> sharing_decision(const ClientOp& op,
                                              const std::vector<std::shared_ptr<ClientOp>>& ops) {
  std::vector<const ClientOp*> sharing{&op};
  if (!op.tag) return sharing;
  for (const auto& other : ops) {
    if (other.get() != &op && other->tag && other->tag->endpoint == op.tag->endpoint &&
        other->tag->key == op.tag->key && other->sent_step <= op.sent_step &&
        (other->replies == 0 || other->answered_step >= op.sent_step)) {
      sharing.push_back(other.get());
    }
  }
  return sharing;
}

// The window in which a refusal may have been decided opens at the first of them.
uint64_t window_start(const ClientOp& op, const std::vector<std::shared_ptr<ClientOp>>& ops) {
  uint64_t from = op.sent_commit;
  for (const auto* other : sharing_decision(op, ops)) from = std::min(from, other->sent_commit);
  return from;
}

// A reversal refused already_reversed (by the HTTP layer on what it read, or by Postgres' guard
// on what it would reverse): at some commit while it was handled, the original's committed
// reversals left less than some request sharing the decision asked for (a reversal of all:
// anything; refused by the guard: the amount its command carried).
bool reversal_refusal_justified(const ClientOp& op, const ModelState& state,
                                const std::vector<std::shared_ptr<ClientOp>>& ops) {
  int64_t wanted = 0;  // the most any of them asked for (which one executed is not known here)
  for (const auto* other : sharing_decision(op, ops)) {
    wanted =
        std::max(wanted, other->refusal ? std::max<int64_t>(other->asked, 1) : other->reversed_now);
  }
  for (uint64_t k = window_start(op, ops); k <= op.answered_commit; ++k) {
    int64_t reversed = 0;
    for (const auto& [id, committed] : state.transactions) {
      if (committed.record.reverses == op.reverses && committed.at.commit <= k) {
        reversed += committed.record.reversed_now;
      }
    }
    if (reversed + wanted > op.reversible) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> check_transaction_rows(const ModelState& state) {
  std::vector<std::string> failures;
  auto rows = rows_by_transaction(state);
  for (const auto& [id, committed] : state.transactions) {
    check_one_transaction(state, id, parse_postings(committed.record.postings), rows[id], failures);
  }
  for (const auto& [id, orphans] : rows) {
    if (state.transactions.count(id)) continue;
    failures.push_back(std::to_string(orphans.size()) + " rows of transaction " + id +
                       " committed without the transaction: applied in part");
  }
  return failures;
}

std::vector<std::string> check_transaction_answers(
    const std::vector<std::shared_ptr<ClientOp>>& ops, const ModelState& state) {
  std::vector<std::string> failures;
  for (const auto& op : ops) {
    if (!posts(op->kind) || op->replies != 1 || op->reply.status() != 201) continue;
    const std::string id = field(op->reply, "transaction_id", false);
    auto it = state.transactions.find(id);
    if (it == state.transactions.end()) {
      failures.push_back(client(*op) + " was told 201 but transaction '" + id +
                         "' never committed: " + op->reply.body());
      continue;
    }
    const auto& record = it->second.record;
    if (record.reverses != op->reverses) {
      failures.push_back(client(*op) + " was told 201 for transaction " + id +
                         ", which reverses '" + record.reverses + "'");
    }
    // A retry of a reversal of all that is left may read another amount than the request that
    // executed: its answer is that one's.
    const bool retried_reversal = op->kind == ClientOp::Kind::reversal && op->reply.replayed;
    if (!retried_reversal && record.postings != op->postings_json) {
      failures.push_back(client(*op) + " was told 201 for transaction " + id +
                         ", which committed other postings: " + record.postings);
    }
  }
  return failures;
}

std::vector<std::string> check_money_per_currency(const ModelState& state,
                                                  const std::map<std::string, int64_t>& initial) {
  std::map<std::string, int64_t> held, owed;  // per currency: balances + in transit; start + @world
  for (const auto& [account, balance] : state.balances) {
    const auto currency = state.currency_of(account);
    held[currency] += balance;
    auto start = initial.find(account);
    owed[currency] += start == initial.end() ? 0 : start->second;
  }
  for (const auto& [id, leg] : state.in_transit)
    held[state.currency_of(leg.from_user_id)] += leg.amount;
  for (const auto& row : state.rows) {
    const auto& e = row.entry;
    if (e.kind == EntryKind::deposit || e.kind == EntryKind::withdrawal) {
      owed[state.currency_of(e.user_id)] += e.change;
    }
  }
  std::vector<std::string> failures;
  for (const auto& [currency, sum] : held) {
    if (sum != owed[currency]) {
      failures.push_back("money in " + currency + ": balances + in transit hold " +
                         money(sum, currency) +
                         ", but starting balances + deposits - withdrawals " + "(@world) come to " +
                         money(owed[currency], currency));
    }
  }
  return failures;
}

std::vector<std::string> check_reversals(const ModelState& state) {
  std::vector<std::string> failures;
  std::map<std::string, std::vector<const persistence::TransactionRecord*>> by_original;
  for (const auto& [id, committed] : state.transactions) {
    if (!committed.record.reverses.empty()) {
      by_original[committed.record.reverses].push_back(&committed.record);
    }
  }
  for (const auto& [original_id, reversals] : by_original) {
    auto original = state.transactions.find(original_id);
    if (original == state.transactions.end()) {
      failures.push_back("reversal " + reversals.front()->transaction_id +
                         " reverses a transaction that never committed: " + original_id);
      continue;
    }
    const auto postings = parse_postings(original->second.record.postings);
    const bool single = postings.size() == 1;
    int64_t reversed = 0;
    for (const auto* reversal : reversals) {
      const auto inverted = parse_postings(reversal->postings);
      bool ok = inverted.size() == postings.size();
      for (size_t i = 0; ok && i < postings.size(); ++i) {
        const auto& p = postings[i];
        const auto& r = inverted[i];
        ok = r.from == p.to && r.to == p.from && r.currency == p.currency &&
             (single ? r.amount > 0 && r.amount <= p.amount : r.amount == p.amount);
      }
      if (!ok) {
        failures.push_back("reversal " + reversal->transaction_id + " of " + original_id +
                           " does not invert its postings: " + reversal->postings + " vs " +
                           original->second.record.postings);
        continue;
      }
      const int64_t amount = single ? inverted.front().amount : 1;
      if (reversal->reversed_now != amount) {
        failures.push_back("reversal " + reversal->transaction_id + " moved " +
                           std::to_string(amount) + " but recorded " +
                           std::to_string(reversal->reversed_now));
      }
      reversed += amount;
    }
    const int64_t reversible = single ? postings.front().amount : 1;
    if (reversed > reversible) {
      failures.push_back("transaction " + original_id + " was reversed " +
                         std::to_string(reversals.size()) + " times, " + std::to_string(reversed) +
                         " of " + std::to_string(reversible) + ": more than it moved");
    }
    auto guard = state.reversals.find(original_id);
    if (guard == state.reversals.end() || guard->second.reversed != reversed) {
      failures.push_back("transaction_reversals holds " +
                         (guard == state.reversals.end() ? std::string("nothing")
                                                         : std::to_string(guard->second.reversed)) +
                         " for " + original_id + ", its committed reversals reverse " +
                         std::to_string(reversed));
    }
  }
  return failures;
}

std::vector<std::string> check_transaction_refusals(
    const std::vector<std::shared_ptr<ClientOp>>& ops, const ModelState& state,
    const std::map<std::string, ModelRules>& initial,
    const std::function<bool(const ClientOp&)>& excused) {
  std::vector<std::string> failures;
  const Committed committed(state, initial);
  for (const auto& op : ops) {
    if (!posts(op->kind) || op->replies != 1 || op->reply.replayed) continue;
    const std::string code = field(op->reply, "code", true);
    if (code == "already_reversed") {
      if (!reversal_refusal_justified(*op, state, ops)) {
        failures.push_back(client(*op) + " was refused already_reversed but what its original's " +
                           "committed reversals reversed never left less than it asked for " +
                           "while it was handled: " + op->reply.body());
      }
      continue;
    }
    if (code != "insufficient_funds" && code != "account_frozen" && code != "account_closed" &&
        code != "account_not_found") {
      continue;
    }
    const std::string named = field(op->reply, "account_id", true);
    int64_t net = 0;
    bool named_here = false, pays = false;
    for (const auto& p : op->postings) {
      if (p.from == named) {
        net -= p.amount;
        pays = named_here = true;
      }
      if (p.to == named) {
        net += p.amount;
        named_here = true;
      }
    }
    if (named.empty() || named == kWorld || !named_here) {
      failures.push_back(client(*op) + " was refused " + code +
                         " naming no account of its postings: " + op->reply.body());
      continue;
    }
    if (code == "account_not_found") {
      if (state.balances.count(named)) {
        failures.push_back(client(*op) + " was told account " + tail(named) +
                           " does not exist, but it does");
      }
      continue;
    }
    if (excused(*op)) continue;
    const uint64_t from = window_start(*op, ops);
    bool justified = false;
    for (uint64_t k = from; k <= op->answered_commit && !justified; ++k) {
      const auto rules = committed.rules_after(named, k);
      if (code == "account_frozen") {
        justified = pays && rules.status == AccountStatus::frozen;
      } else if (code == "account_closed") {
        justified = rules.status == AccountStatus::closed;
      } else {
        const int64_t spendable = committed.balance_after(named, k) + rules.overdraft_limit -
                                  committed.held_after(named, k);
        justified = net < 0 && spendable < -net;
      }
    }
    if (!justified) {
      failures.push_back(client(*op) + " was refused " + code + " for account " + tail(named) +
                         " (net change " + std::to_string(net) + (pays ? ", paying" : "") +
                         ") but Postgres never held that while it " + "was handled (commits " +
                         std::to_string(from) + ".." + std::to_string(op->answered_commit) +
                         "): " + op->reply.body());
    }
  }
  return failures;
}

}  // namespace wallet::simulation
