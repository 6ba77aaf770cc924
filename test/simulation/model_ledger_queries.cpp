// ModelLedgerRecords' queries of committed state (persistence/account_rows_queries.cpp,
// transaction_store.cpp's ledger_totals): an account's rows and its balance at an instant, and the
// totals per currency. Each reads the model as it is when the simulation completes the call; a
// row's instant is the virtual time of its commit (ModelRow::created_ms). Transactions by id and
// GET /transactions are not modelled (answered unavailable).
#include <algorithm>
#include <map>

#include "test/simulation/model_ledger_records.hpp"

namespace wallet::simulation {

namespace {

// An account's rows with seq < before (all when 0) and created in `range`, newest first.
std::vector<const ModelRow*> rows_of(const ModelState& state, const std::string& account_id,
                                     const persistence::TimeRange& range, int64_t before) {
  std::vector<const ModelRow*> rows;
  for (const auto& row : state.rows) {
    const int64_t created_us = row.created_ms * 1'000;
    if (row.entry.user_id != account_id) continue;
    if (before != 0 && static_cast<int64_t>(row.seq) >= before) continue;
    if (range.from_us && created_us < *range.from_us) continue;
    if (range.to_us && created_us >= *range.to_us) continue;
    rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(),
            [](const ModelRow* a, const ModelRow* b) { return a->seq > b->seq; });
  return rows;
}

}  // namespace

void ModelLedgerRecords::find_transaction(
    std::string transaction_id,
    persistence::Answer<std::optional<persistence::TransactionView>> done) {
  (void)transaction_id;
  queue(
      "find_transaction", "find transaction",
      [done] { done(not_modelled("GET /transactions/{id}")); }, [done] { done(unavailable()); });
}

void ModelLedgerRecords::find_transactions(persistence::TransactionQuery query,
                                           persistence::Answer<persistence::TransactionPage> done) {
  (void)query;
  queue(
      "find_transactions", "find transactions", [done] { done(not_modelled("GET /transactions")); },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::ledger_totals(
    bool verify, persistence::Answer<std::vector<persistence::CurrencyTotals>> done) {
  queue(
      "ledger_totals", "ledger totals",
      [this, verify, done] {
        const ModelState& state = model_->state();
        std::map<std::string, persistence::CurrencyTotals> by_code;
        auto entry = [&by_code](const std::string& code) -> persistence::CurrencyTotals& {
          auto& totals = by_code[code];
          totals.currency = code;
          totals.exponent = exponent_of(code);
          if (!totals.world_from_rows) totals.world_from_rows = 0;
          return totals;
        };
        for (const auto& [id, balance] : state.balances)
          entry(state.currency_of(id)).accounts += balance;
        for (const auto& [id, leg] : state.in_transit) {
          entry(state.currency_of(leg.from_user_id)).in_transit += leg.amount;
        }
        for (const auto& row : state.rows) {
          const auto kind = row.entry.kind;
          if (kind != persistence::EntryKind::deposit &&
              kind != persistence::EntryKind::withdrawal) {
            continue;
          }
          *entry(state.currency_of(row.entry.user_id)).world_from_rows -= row.entry.change;
        }
        std::vector<persistence::CurrencyTotals> out;
        for (auto& [code, totals] : by_code) {
          totals.world = -(totals.accounts + totals.in_transit);
          if (!verify) totals.world_from_rows.reset();
          out.push_back(std::move(totals));
        }
        done(std::move(out));
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::account_rows(
    persistence::AccountRowsQuery query,
    persistence::Answer<std::optional<persistence::AccountRowsPage>> done) {
  queue(
      "account_rows", "account rows " + query.account_id,
      [this, query, done] {
        const ModelState& state = model_->state();
        if (state.balances.count(query.account_id) == 0) {
          return done(std::optional<persistence::AccountRowsPage>{});
        }
        persistence::AccountRowsPage page;
        page.user_id = query.account_id;  // every account of the model is its user's default one
        page.currency = state.currency_of(query.account_id);
        page.exponent = exponent_of(page.currency);
        const auto rows = rows_of(state, query.account_id, query.range, query.before);
        for (const ModelRow* row : rows) {
          if (page.rows.size() == static_cast<size_t>(query.limit)) {
            page.next_before = static_cast<int64_t>(rows[query.limit - 1]->seq);
            break;
          }
          const auto& e = row->entry;
          page.rows.push_back({e.id, e.transaction_id.empty() ? e.id : e.transaction_id,
                               persistence::entry_kind_name(e.kind), e.change, e.old_balance,
                               e.new_balance, e.transfer_id, ""});
        }
        done(std::optional<persistence::AccountRowsPage>{std::move(page)});
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::balance_at(
    std::string account_id, std::optional<int64_t> at_us,
    persistence::Answer<std::optional<persistence::BalanceAt>> done) {
  queue(
      "balance_at", "balance at " + account_id,
      [this, account_id, at_us, done] {
        const ModelState& state = model_->state();
        auto it = state.balances.find(account_id);
        if (it == state.balances.end()) return done(std::optional<persistence::BalanceAt>{});
        persistence::BalanceAt answer;
        answer.currency = state.currency_of(account_id);
        answer.exponent = exponent_of(answer.currency);
        answer.balance = it->second;
        if (at_us) {
          // The new_balance of the last row at or before the instant. Before its first row:
          // Postgres answers 0 (an account opens empty); the model's accounts start with their
          // initial balance and no row, so it answers that (the first row's old_balance).
          const auto rows = rows_of(state, account_id, {}, 0);
          auto last = std::find_if(rows.begin(), rows.end(), [&at_us](const ModelRow* row) {
            return row->created_ms * 1'000 <= *at_us;
          });
          if (last != rows.end()) {
            answer.balance = (*last)->entry.new_balance;
          } else if (!rows.empty()) {
            answer.balance = rows.back()->entry.old_balance;
          }
        }
        done(std::optional<persistence::BalanceAt>{std::move(answer)});
      },
      [done] { done(unavailable()); });
}

}  // namespace wallet::simulation
