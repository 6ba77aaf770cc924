#include "test/simulation/across_owners_check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "test/simulation/committed_state.hpp"
#include "test/simulation/posting_client.hpp"

namespace wallet::simulation {
namespace {

using persistence::EntryKind;
using persistence::TransactionDecision;

const char* decision_name(const ModelState& state, const std::string& id) {
  auto it = state.decisions.find(id);
  if (it == state.decisions.end()) return "none";
  return it->second == TransactionDecision::commit ? "commit" : "abort";
}

std::string transaction_of(const actors::Reply& reply) {
  auto doc = nlohmann::json::parse(reply.body(), nullptr, false);
  if (!doc.is_object() || !doc.contains("transaction_id") || !doc["transaction_id"].is_string()) {
    return "";
  }
  return doc["transaction_id"].get<std::string>();
}

}  // namespace

std::vector<std::string> check_debits_whole(const ModelState& state) {
  std::map<std::string, std::set<int>> debited, held;
  for (const auto& row : state.rows) {
    const auto& e = row.entry;
    if (e.transaction_id.empty()) continue;
    debited[e.transaction_id];  // a transaction with rows, debits or not
    if (e.kind == EntryKind::posting_debit || e.kind == EntryKind::withdrawal) {
      debited[e.transaction_id].insert(e.posting);
    }
  }
  for (const auto& [id, hold] : state.holds) {
    if (!hold.transaction_id.empty() && hold.status == "pending") {
      held[hold.transaction_id].insert(hold.posting);
    }
  }
  std::vector<std::string> failures;
  const std::string at = " at commit " + std::to_string(state.commits);
  for (const auto& [id, postings_debited] : debited) {
    auto decided = state.decisions.find(id);
    if (decided != state.decisions.end() && decided->second == TransactionDecision::abort) {
      failures.push_back("transaction " + id + " was decided abort but has rows" + at);
      continue;
    }
    auto record = state.transactions.find(id);
    if (record == state.transactions.end()) {
      failures.push_back("transaction " + id + " has rows without its record" + at);
      continue;
    }
    const auto postings = parse_postings(record->second.record.postings);
    for (size_t i = 0; i < postings.size(); ++i) {
      const int index = static_cast<int>(i);
      if (postings[i].from == actors::kWorld || postings_debited.count(index)) continue;
      if (held.count(id) && held.at(id).count(index)) continue;
      failures.push_back("transaction " + id + " (decision " + decision_name(state, id) +
                         ") is applied in part" + at + ": posting " + std::to_string(i) + " of " +
                         postings[i].from + " is neither debited nor held");
    }
  }
  return failures;
}

std::vector<std::string> check_holds_settled(const ModelState& state) {
  std::map<std::string, std::vector<const persistence::HoldRecord*>> holds;
  for (const auto& [id, hold] : state.holds) {
    if (!hold.transaction_id.empty()) holds[hold.transaction_id].push_back(&hold);
  }
  std::set<std::string> with_rows;
  for (const auto& row : state.rows) with_rows.insert(row.entry.transaction_id);
  std::vector<std::string> failures;
  for (const auto& [id, of_transaction] : holds) {
    auto decided = state.decisions.find(id);
    if (decided == state.decisions.end()) {
      failures.push_back("transaction " + id + " has " + std::to_string(of_transaction.size()) +
                         " holds but was never decided");
    }
    const bool commit =
        decided != state.decisions.end() && decided->second == TransactionDecision::commit;
    for (const auto* hold : of_transaction) {
      const std::string who = "hold " + hold->hold_id + " (posting " +
                              std::to_string(hold->posting) + " of transaction " + id +
                              ", decision " + decision_name(state, id) + ")";
      if (hold->status == "pending") {
        failures.push_back(who + " is still pending at rest");
      } else if (commit && (hold->status != "captured" || hold->captured_amount != hold->amount)) {
        failures.push_back(who + " is " + hold->status + " (captured " +
                           std::to_string(hold->captured_amount) + " of " +
                           std::to_string(hold->amount) + "): its debit never applies");
      } else if (!commit && hold->status != "voided") {
        failures.push_back(who + " is " + hold->status + ", not voided");
      }
    }
    if (!commit && (with_rows.count(id) || state.transactions.count(id))) {
      failures.push_back("transaction " + id + " (decision " + decision_name(state, id) +
                         ") has rows or its record");
    }
  }
  return failures;
}

std::vector<std::string> check_decision_answers(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                                const ModelState& state,
                                                const std::set<std::string>& coordinated) {
  std::vector<std::string> failures;
  std::set<std::string> told;
  for (const auto& op : ops) {
    if (!posts(op->kind) || op->replies != 1 || op->reply.status() != 201) continue;
    const auto id = transaction_of(op->reply);
    if (!coordinated.count(id)) continue;
    told.insert(id);
    auto decided = state.decisions.find(id);
    if (decided == state.decisions.end() || decided->second != TransactionDecision::commit) {
      failures.push_back("client #" + std::to_string(op->id) + " was told 201 for transaction " +
                         id + " across owners, decided " + decision_name(state, id));
    }
  }
  for (const auto& id : coordinated) {
    auto decided = state.decisions.find(id);
    if (decided != state.decisions.end() && decided->second == TransactionDecision::commit &&
        !told.count(id)) {
      failures.push_back("transaction " + id +
                         " across owners was decided commit but no client was told 201");
    }
  }
  return failures;
}

bool across_refusal_justified(const ClientOp& op, const ModelState& state,
                              const std::map<std::string, ModelRules>& initial,
                              const std::set<std::string>& elsewhere) {
  auto doc = nlohmann::json::parse(op.reply.body(), nullptr, false);
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) return false;
  const auto& error = doc["error"];
  const std::string code = error.value("code", "");
  const std::string named = error.value("account_id", "");
  if (code != "insufficient_funds") return false;
  const bool across = std::any_of(op.postings.begin(), op.postings.end(),
                                  [&](const auto& p) { return elsewhere.count(p.from) > 0; });
  if (!across) return false;
  int64_t net_here = 0;  // the named account's, without credits paid by holds elsewhere
  for (const auto& p : op.postings) {
    if (p.from == named) net_here -= p.amount;
    if (p.to == named && !elsewhere.count(p.from)) net_here += p.amount;
  }
  const Committed committed(state, initial);
  for (uint64_t k = op.sent_commit; k <= op.answered_commit; ++k) {
    const int64_t spendable = committed.balance_after(named, k) +
                              committed.rules_after(named, k).overdraft_limit -
                              committed.held_after(named, k);
    if (spendable < -net_here) return true;
    for (const auto& p : op.postings) {
      if (p.from == named && spendable < p.amount) return true;
    }
  }
  return false;
}

}  // namespace wallet::simulation
