// The Ledger's transactions of many postings (SPEC.md section 8): starting one (the coordinator
// applies it all or nothing, actors/posting_coordinator.cpp) and reading any transaction back.
#include <algorithm>

#include "actors/ledger.hpp"
#include "actors/ledger_outcomes.hpp"
#include "domain/partitioning.hpp"

namespace wallet::actors {

void Ledger::transact(TransactionCommand command) {
  std::vector<std::string> accounts;
  for (const auto& p : command.postings) {
    for (const auto* side : {&p.from, &p.to}) {
      if (*side != kWorld) accounts.push_back(*side);
    }
  }
  if (accounts.empty()) {
    return command.reply(error_reply(domain::ErrorCode::invalid_account_id,
                                     "a transaction must name at least one account"));
  }
  // Beyond one machine: this instance applies a transaction whose payers it serves, all of them
  // (the HTTP layer sends it to the owner of its first payer); the credits of payees served
  // elsewhere leave in transit. Payers on several instances, or money from @world to an account
  // served elsewhere, are refused before anything is decided (nothing changed).
  for (const auto& p : command.postings) {
    const bool payer_elsewhere = p.from != kWorld && owned_elsewhere(p.from);
    const bool payee_elsewhere = p.to != kWorld && owned_elsewhere(p.to);
    if (payer_elsewhere || (payee_elsewhere && p.from == kWorld)) {
      return command.reply(error_reply(
          domain::ErrorCode::accounts_across_owners,
          "the accounts paying in this transaction are served by more than one instance; a "
          "transaction across owners is supported for its payees only (nothing changed)"));
    }
    if (payee_elsewhere) {
      command.foreign.emplace(p.to, domain::partition_of(p.to, options_.owned->partitions()));
    }
  }
  const auto served = std::find_if(accounts.begin(), accounts.end(),
                                   [&](const std::string& a) { return !command.foreign.count(a); });
  if (served == accounts.end()) {
    return command.reply(error_reply(domain::ErrorCode::accounts_across_owners,
                                     "no account of this transaction is served here"));
  }
  if (!admit(command.reply, *served)) return;
  run_keyed(std::move(command),
            [this](TransactionCommand cmd) { check_payees_elsewhere(std::move(cmd), 0); });
}

void Ledger::check_payees_elsewhere(TransactionCommand command, size_t next) {
  auto it = command.foreign.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(std::min(next, command.foreign.size())));
  if (it == command.foreign.end()) {
    caf::anon_send(coordinator_, transact_atom::value, std::move(command));
    return;
  }
  const std::string account = it->first;
  std::string currency;
  for (const auto& p : command.postings) {
    if (p.to == account) currency = p.currency;
  }
  auto stage = start_stage(command.deadline, command.reply);
  read_elsewhere_owned(account, [this, stage, next, account, currency,
                                 command = std::move(command)](
                                    domain::Result<persistence::AccountRecord> found) mutable {
    if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
    if (!found) {
      if (found.error().code != domain::ErrorCode::user_not_found) {
        return command.reply(error_reply(found.error().code, found.error().message));
      }
      domain::Error missing{domain::ErrorCode::account_not_found, "no account " + account, account};
      return command.reply(Reply{domain::http_status(missing.code), domain::error_body(missing)});
    }
    if (found->currency != currency) {
      domain::Error mismatch{
          domain::ErrorCode::currency_mismatch,
          "account " + account + " holds " + found->currency + ", its posting moves " + currency,
          account};
      return command.reply(Reply{domain::http_status(mismatch.code), domain::error_body(mismatch)});
    }
    if (found->status == persistence::AccountStatus::closed) {
      // Decided, as the payee's actor would decide it: the key's outcome when keyed.
      domain::Error closed{domain::ErrorCode::account_closed, "account " + account + " is closed",
                           account};
      return answer_decided(command.tag,
                            Reply{domain::http_status(closed.code), domain::error_body(closed)},
                            std::move(command.reply));
    }
    check_payees_elsewhere(std::move(command), next + 1);
  });
}

void Ledger::transaction(
    std::string transaction_id,
    std::function<void(domain::Result<std::optional<persistence::TransactionView>>)> reply) {
  pool_->run<std::optional<persistence::TransactionView>>(
      "find_transaction",
      [id = std::move(transaction_id)](pqxx::connection& conn) {
        return persistence::find_transaction(conn, id);
      },
      std::move(reply));
}

void Ledger::totals(
    bool verify,
    std::function<void(domain::Result<std::vector<persistence::CurrencyTotals>>)> reply) {
  pool_->run<std::vector<persistence::CurrencyTotals>>(
      "ledger_totals",
      [verify](pqxx::connection& conn) { return persistence::ledger_totals(conn, verify); },
      std::move(reply));
}

}  // namespace wallet::actors
