#include "test/simulation/reads_check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wallet::simulation {

namespace {

using Failures = std::vector<std::string>;

std::string where(uint64_t seed, const ReadOp& read) {
  return "seed " + std::to_string(seed) + ": " + describe(read);
}

// The ids an answer names (a deposit's or withdrawal's transaction_id is its row's id; a
// transfer's or capture's transfer_id, a transaction's transaction_id are its rows').
std::vector<std::string> ids_named(const ClientOp& op) {
  std::vector<std::string> ids;
  auto doc = nlohmann::json::parse(op.reply.body(), nullptr, false);
  if (!doc.is_object()) return ids;
  for (const char* field : {"transaction_id", "transfer_id"}) {
    auto it = doc.find(field);
    if (it != doc.end() && it->is_string()) ids.push_back(it->get<std::string>());
  }
  return ids;
}

bool names(const persistence::LedgerEntry& entry, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (entry.id == id || entry.transfer_id == id || entry.transaction_id == id) return true;
  }
  return false;
}

bool pages(ReadOp::Kind kind) {
  return kind == ReadOp::Kind::history || kind == ReadOp::Kind::account_rows;
}

// The rows a page shows: each committed before the page was answered, as committed; newest
// first, all older than the cursor.
void check_page(const ReadOp& read, const std::map<std::string, const ModelRow*>& by_id,
                uint64_t seed, Failures& failures) {
  uint64_t newer = UINT64_MAX;
  for (const auto& row : read.rows) {
    auto it = by_id.find(row.id);
    if (it == by_id.end() || it->second->at.commit > read.answered_commit) {
      failures.push_back(where(seed, read) + " shows row " + row.id +
                         (it == by_id.end() ? ", which never committed"
                                            : ", committed only after the read was answered"));
      continue;
    }
    const ModelRow& committed = *it->second;
    const auto& e = committed.entry;
    if (e.user_id != read.account || e.change != row.change || e.old_balance != row.old_balance ||
        e.new_balance != row.new_balance) {
      failures.push_back(where(seed, read) + " shows row " + row.id + " other than committed");
    }
    if (committed.seq >= newer) {
      failures.push_back(where(seed, read) + ": not newest first at row " + row.id);
    }
    if (read.before != 0 && static_cast<int64_t>(committed.seq) >= read.before) {
      failures.push_back(where(seed, read) + " shows row " + row.id + " (seq " +
                         std::to_string(committed.seq) + "), not before its cursor");
    }
    newer = committed.seq;
  }
  if (static_cast<int>(read.rows.size()) > read.limit) {
    failures.push_back(where(seed, read) + ": more rows than its limit");
  }
}

// Read-your-writes: the rows of each money operation answered 200/201 before the page was sent,
// on the page's account, within the page's reach (older than its cursor; when a next page
// follows, no older than its last row).
int check_own_writes(const ReadOp& read, const std::vector<std::shared_ptr<ClientOp>>& ops,
                     const ModelState& state, uint64_t seed, Failures& failures) {
  int checked = 0;
  for (const auto& op : ops) {
    const int status = op->reply.status();
    if (op->replies < 1 || (status != 200 && status != 201)) continue;
    if (op->answered_step >= read.sent_step) continue;
    const auto ids = ids_named(*op);
    if (ids.empty()) continue;
    for (const auto& row : state.rows) {
      if (row.entry.user_id != read.account || row.at.commit > op->answered_commit) continue;
      if (!names(row.entry, ids)) continue;
      const auto seq = static_cast<int64_t>(row.seq);
      if (read.before != 0 && seq >= read.before) continue;
      if (read.next_before != 0 && seq < read.next_before) continue;
      ++checked;
      const bool shown = std::any_of(read.rows.begin(), read.rows.end(),
                                     [&row](const ReadRow& r) { return r.id == row.entry.id; });
      if (!shown) {
        failures.push_back(where(seed, read) + " misses row " + row.entry.id + " (seq " +
                           std::to_string(row.seq) + ") of client #" + std::to_string(op->id) +
                           " (" + endpoint(op->kind) + " answered " + std::to_string(status) +
                           " at step " + std::to_string(op->answered_step) + ")");
      }
    }
  }
  return checked;
}

// The balance the account started with plus its rows committed by the read's answer (and, at a
// past instant, at or before it).
void check_balance(const ReadOp& read, const ModelState& state,
                   const std::map<std::string, int64_t>& initial, uint64_t seed,
                   Failures& failures) {
  auto start = initial.find(read.account);
  int64_t expected = start == initial.end() ? 0 : start->second;
  for (const auto& row : state.rows) {
    if (row.entry.user_id != read.account || row.at.commit > read.answered_commit) continue;
    if (read.kind == ReadOp::Kind::balance_past && row.created_ms > read.at_ms) continue;
    expected += row.entry.change;
  }
  if (read.balance != expected) {
    failures.push_back(where(seed, read) + " answered " + std::to_string(read.balance) +
                       ", its committed rows sum to " + std::to_string(expected));
  }
}

void check_totals(const ReadOp& read, const ModelState& state,
                  const std::map<std::string, int64_t>& initial, uint64_t seed,
                  Failures& failures) {
  std::map<std::string, int64_t> accounts;
  for (const auto& [id, balance] : initial) accounts[state.currency_of(id)] += balance;
  for (const auto& row : state.rows) {
    if (row.at.commit <= read.answered_commit) {
      accounts[state.currency_of(row.entry.user_id)] += row.entry.change;
    }
  }
  for (const auto& totals : read.totals) {
    const auto& code = totals.currency;
    const int64_t transit = read.in_transit_then.count(code) ? read.in_transit_then.at(code) : 0;
    if (totals.accounts != accounts[code] || totals.in_transit != transit ||
        totals.world != -(totals.accounts + totals.in_transit)) {
      failures.push_back(
          where(seed, read) + ": " + code + " accounts " + std::to_string(totals.accounts) +
          " in transit " + std::to_string(totals.in_transit) + " @world " +
          std::to_string(totals.world) + "; the rows say accounts " +
          std::to_string(accounts[code]) + ", the model in transit " + std::to_string(transit));
    }
    accounts.erase(code);
  }
  for (const auto& [code, sum] : accounts) {
    failures.push_back(where(seed, read) + ": no totals of " + code);
  }
}

// No transfer listed in transit had its credit committed before the read was sent.
void check_in_transit(const ReadOp& read, const ModelState& state, uint64_t seed,
                      Failures& failures) {
  if (read.in_transit.count != static_cast<int64_t>(read.in_transit.oldest.size())) {
    failures.push_back(where(seed, read) + ": counts " + std::to_string(read.in_transit.count) +
                       " but lists " + std::to_string(read.in_transit.oldest.size()));
  }
  for (const auto& leg : read.in_transit.oldest) {
    for (const auto& row : state.rows) {
      if (row.at.commit > read.sent_commit || row.entry.user_id != leg.to_user_id) continue;
      if (row.entry.transfer_id != leg.transfer_id || row.entry.change <= 0) continue;
      failures.push_back(where(seed, read) + " counts transfer " + leg.transfer_id +
                         " in transit, credited by row " + row.entry.id + " at commit " +
                         std::to_string(row.at.commit));
    }
  }
}

}  // namespace

std::vector<std::string> check_reads(const std::vector<std::shared_ptr<ReadOp>>& reads,
                                     const std::vector<std::shared_ptr<ClientOp>>& ops,
                                     const ModelState& state,
                                     const std::map<std::string, int64_t>& initial, int partitions,
                                     uint64_t seed, ReadsTally* tally) {
  Failures failures;
  std::map<std::string, const ModelRow*> by_id;
  for (const auto& row : state.rows) by_id[row.entry.id] = &row;
  std::map<int, int64_t> epochs;  // the latest each partition was answered with
  std::vector<const ReadOp*> in_answer_order;
  for (const auto& read : reads) {
    if (read->replies != 1) {
      failures.push_back(where(seed, *read) + " answered " + std::to_string(read->replies) +
                         " times");
      continue;
    }
    if (read->error) {
      ++tally->failed;
      continue;
    }
    ++tally->answered;
    if (read->missing) {
      failures.push_back(where(seed, *read) + ": answered as no such account");
      continue;
    }
    if (pages(read->kind)) {
      check_page(*read, by_id, seed, failures);
      tally->writes_checked += check_own_writes(*read, ops, state, seed, failures);
    } else if (read->kind == ReadOp::Kind::balance_now ||
               read->kind == ReadOp::Kind::balance_past) {
      check_balance(*read, state, initial, seed, failures);
    } else if (read->kind == ReadOp::Kind::totals) {
      check_totals(*read, state, initial, seed, failures);
    } else if (read->kind == ReadOp::Kind::in_transit) {
      check_in_transit(*read, state, seed, failures);
    } else if (read->kind == ReadOp::Kind::partitions) {
      in_answer_order.push_back(read.get());
    }
  }
  std::sort(in_answer_order.begin(), in_answer_order.end(), [](const auto* a, const auto* b) {
    return a->answered_commit != b->answered_commit ? a->answered_commit < b->answered_commit
                                                    : a->answered_step < b->answered_step;
  });
  for (const ReadOp* read : in_answer_order) {
    if (static_cast<int>(read->partitions.size()) != partitions) {
      failures.push_back(where(seed, *read) + ": lists " + std::to_string(read->partitions.size()) +
                         " partitions");
    }
    for (size_t i = 0; i < read->partitions.size(); ++i) {
      const auto& owner = read->partitions[i];
      if (owner.partition != static_cast<int>(i)) {
        failures.push_back(where(seed, *read) + ": partitions out of order at " +
                           std::to_string(i));
      }
      int64_t& latest = epochs[owner.partition];
      if (owner.epoch < latest) {
        failures.push_back(where(seed, *read) + ": partition " + std::to_string(owner.partition) +
                           " epoch " + std::to_string(owner.epoch) + " after " +
                           std::to_string(latest));
      }
      latest = std::max(latest, owner.epoch);
    }
  }
  return failures;
}

}  // namespace wallet::simulation
