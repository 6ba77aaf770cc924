// The Ledger's transactions of many postings (SPEC.md section 8): starting one (the coordinator
// applies it all or nothing, actors/posting_coordinator.cpp) and reading any transaction back.
#include <algorithm>

#include "actors/ledger.hpp"
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
  if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
  auto start = [this](TransactionCommand cmd) {
    caf::anon_send(coordinator_, transact_atom::value, std::move(cmd));
  };
  if (!command.tag) return start(std::move(command));
  auto tag = *command.tag;
  const Deadline deadline = command.deadline;
  ReplyFn reply = std::move(command.reply);
  run_idempotent(tag, deadline, std::move(reply),
                 [start, command = std::move(command)](ReplyFn done) mutable {
                   command.reply = std::move(done);
                   start(std::move(command));
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
