// The API verifier's history check: each user's GET /users/{id}/transactions is a gap-free chain
// that ends at the balance and holds exactly the accepted transfers, captures, withdrawals and
// payments.
#include <map>

#include "domain/money.hpp"
#include "tools/wallet_stress/api_verifier_internal.hpp"

namespace wallet::stress::api_checks {

namespace {

// What the answers say each history must hold: per account, the accepted transfer ids with their
// balance change, the accepted withdrawals, and the rows and net change of the accepted payments.
struct HistoryExpectation {
  std::vector<std::map<std::string, int64_t>> wanted;
  std::vector<size_t> withdrawals;
  std::vector<size_t> posting_rows;
  std::vector<int64_t> posting_net;
};

HistoryExpectation expect_history(const std::vector<Account>& accounts, const TransferPlan& plan,
                                  const LoadResult& load,
                                  const std::vector<std::string>& transfer_ids) {
  // Per account: accepted transfer id -> expected balance change.
  std::vector<std::map<std::string, int64_t>> wanted(accounts.size());
  for (size_t t = 0; t < transfer_ids.size(); ++t) {
    if (transfer_ids[t].empty()) continue;
    const auto& p = plan.transfers[t];
    wanted[p.from][transfer_ids[t]] = -p.amount_minor;
    wanted[p.to][transfer_ids[t]] = p.amount_minor;
  }
  std::vector<size_t> withdrawals(accounts.size(), 0);  // accepted, per account
  // --fee-payments: the rows the accepted payments leave per account (a row per posting and side;
  // history rows do not name their transaction, so these are counted and added up).
  std::vector<size_t> posting_rows(accounts.size(), 0);
  std::vector<int64_t> posting_net(accounts.size(), 0);
  for (size_t t = 0; t < plan.transfers.size(); ++t) {
    const auto& p = plan.transfers[t];
    if (p.kind == OpKind::withdraw && load.keys[t].status == 200) ++withdrawals[p.from];
    if (p.kind == OpKind::payment && load.keys[t].status == 201) {
      posting_rows[p.from] += 2;
      posting_net[p.from] -= p.amount_minor + p.fee_minor;
      ++posting_rows[p.to];
      posting_net[p.to] += p.amount_minor;
      ++posting_rows[p.fee_to];
      posting_net[p.fee_to] += p.fee_minor;
    }
  }
  return {std::move(wanted), std::move(withdrawals), std::move(posting_rows),
          std::move(posting_net)};
}

// The rows chain old -> new without a gap, end at the balance, and (complete) start at zero.
void check_chain(const std::string& id, const std::vector<HistoryRow>& rows, int64_t balance,
                 bool complete, InvariantResult& chain) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].old_balance + rows[i].change != rows[i].new_balance) {
      chain.fail(id + ": row " + std::to_string(i) + " old + change != new");
    }
    if (i + 1 < rows.size() && rows[i].old_balance != rows[i + 1].new_balance) {
      chain.fail(id + ": gap between rows " + std::to_string(i + 1) + " and " + std::to_string(i) +
                 " (" + domain::format_minor_units(rows[i + 1].new_balance) + " -> " +
                 domain::format_minor_units(rows[i].old_balance) + ")");
    }
  }
  const int64_t last = rows.empty() ? 0 : rows.front().new_balance;
  if (last != balance) {
    chain.fail(id + ": newest row ends at " + domain::format_minor_units(last) + ", balance is " +
               domain::format_minor_units(balance));
  }
  if (complete && !rows.empty() && rows.back().old_balance != 0) {
    chain.fail(id + ": the oldest row does not start at 0.00");
  }
}

// What one history holds, counted by kind.
struct HistoryCounts {
  size_t found = 0, transfer_rows = 0, deposits = 0, withdrawal_rows = 0, postings = 0;
  int64_t postings_net = 0;
};

// Each row of a kind the run makes is as the answers say; returns the counts.
HistoryCounts check_rows(const std::string& id, const std::vector<HistoryRow>& rows,
                         const std::map<std::string, int64_t>& wanted, InvariantResult& holds) {
  HistoryCounts c;
  for (const auto& row : rows) {
    if (row.kind == "posting_debit" || row.kind == "posting_credit") {
      ++c.postings;
      c.postings_net += row.change;
      if ((row.change < 0) != (row.kind == "posting_debit") || !row.transfer_id.empty()) {
        holds.fail(id + ": a " + row.kind + " row with change " +
                   domain::format_minor_units(row.change));
      }
      continue;
    }
    if (row.kind == "withdrawal") {
      ++c.withdrawal_rows;
      if (row.change >= 0 || !row.transfer_id.empty()) {
        holds.fail(id + ": a withdrawal row with change " + domain::format_minor_units(row.change));
      }
      continue;
    }
    if (row.transfer_id.empty()) {
      ++c.deposits;
      continue;
    }
    ++c.transfer_rows;
    auto it = wanted.find(row.transfer_id);
    if (it == wanted.end()) continue;
    ++c.found;
    const char* kind = it->second < 0 ? "transfer_debit" : "transfer_credit";
    if (row.change != it->second || row.kind != kind) {
      holds.fail(id + ": transfer " + row.transfer_id + " recorded as " + row.kind + " " +
                 domain::format_minor_units(row.change));
    }
  }
  return c;
}

// A complete history holds nothing missing and nothing extra.
void check_counts(const Account& account, const HistoryCounts& c, const HistoryExpectation& e,
                  size_t a, InvariantResult& holds) {
  const auto& id = account.user_id;
  const auto& wanted = e.wanted[a];
  // Rows of an earlier run's payments may be in a reused account's history.
  if (!account.reused && (c.postings != e.posting_rows[a] || c.postings_net != e.posting_net[a])) {
    holds.fail(id + ": " + std::to_string(c.postings) + " posting rows adding up to " +
               domain::format_minor_units(c.postings_net) + ", the accepted payments leave " +
               std::to_string(e.posting_rows[a]) + " adding up to " +
               domain::format_minor_units(e.posting_net[a]));
  }
  if (!account.reused && c.withdrawal_rows != e.withdrawals[a]) {
    holds.fail(id + ": " + std::to_string(c.withdrawal_rows) + " withdrawal rows, " +
               std::to_string(e.withdrawals[a]) + " withdrawals accepted");
  }
  if (c.found != wanted.size()) {
    holds.fail(id + ": " + std::to_string(wanted.size() - c.found) +
               " accepted transfers missing from the history");
  }
  // A new user's history holds nothing but this run: its deposit and the accepted transfers.
  if (!account.reused &&
      (c.transfer_rows != wanted.size() || c.deposits != (account.funded_minor > 0 ? 1u : 0u))) {
    holds.fail(id + ": " + std::to_string(c.transfer_rows) + " transfer rows and " +
               std::to_string(c.deposits) + " deposits, expected " + std::to_string(wanted.size()) +
               " and " + (account.funded_minor > 0 ? "1" : "0"));
  }
}

}  // namespace

void check_history(const std::vector<Account>& accounts, const std::vector<AccountView>& views,
                   const TransferPlan& plan, const LoadResult& load,
                   const std::vector<std::string>& transfer_ids, ApiVerification& out) {
  InvariantResult chain("each history is a gap-free old->new chain ending at the balance");
  InvariantResult holds(
      "each history holds exactly the accepted transfers, captures and withdrawals");
  const auto expected = expect_history(accounts, plan, load, transfer_ids);
  size_t truncated = 0;
  for (size_t a = 0; a < accounts.size(); ++a) {
    const auto& id = accounts[a].user_id;
    if (!views[a].history || !views[a].balance) {
      chain.fail(id + ": " + views[a].error);
      continue;
    }
    const auto& rows = *views[a].history;
    const bool complete = rows.size() < static_cast<size_t>(kHistoryLimit);
    truncated += complete ? 0 : 1;
    check_chain(id, rows, *views[a].balance, complete, chain);
    // Rows of this run's accepted transfers must be right wherever they appear; counting them
    // (nothing missing, nothing extra) needs the complete history.
    const auto counts = check_rows(id, rows, expected.wanted[a], holds);
    if (complete) check_counts(accounts[a], counts, expected, a, holds);
  }
  if (truncated > 0) {
    const std::string text =
        std::to_string(truncated) + (truncated == 1 ? " account has" : " accounts have") +
        " at least " + std::to_string(kHistoryLimit) +
        " rows (the API's largest page); only the newest " + std::to_string(kHistoryLimit) +
        " were checked (--database-url checks all)";
    chain.note = text;
    holds.note = text;
  }
  out.invariants.push_back(std::move(chain));
  out.invariants.push_back(std::move(holds));
}

}  // namespace wallet::stress::api_checks
