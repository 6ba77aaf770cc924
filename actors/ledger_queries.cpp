// The Ledger's queries (SPEC.md section 8, "Metadata, queries, balances in the past"): reads of
// committed state on the pool, off the actors; no account actor is asked, so a query never waits
// behind money work and serves accounts of every owner alike.
#include "actors/ledger.hpp"

namespace wallet::actors {

void Ledger::find_transactions(
    persistence::TransactionQuery query,
    std::function<void(domain::Result<persistence::TransactionPage>)> reply) {
  records_->find_transactions(std::move(query), std::move(reply));
}

void Ledger::account_rows(
    persistence::AccountRowsQuery query,
    std::function<void(domain::Result<std::optional<persistence::AccountRowsPage>>)> reply) {
  records_->account_rows(std::move(query), std::move(reply));
}

void Ledger::balance_at(
    std::string account_id, std::optional<int64_t> at_us,
    std::function<void(domain::Result<std::optional<persistence::BalanceAt>>)> reply) {
  records_->balance_at(std::move(account_id), at_us, std::move(reply));
}

}  // namespace wallet::actors
