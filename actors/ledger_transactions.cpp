// The Ledger's transactions of many postings (SPEC.md section 8): starting one (the coordinator
// applies it all or nothing, actors/posting_coordinator.cpp) and reading any transaction back.
#include <algorithm>
#include <set>

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
  // Beyond one machine: this instance coordinates a transaction whose first payer it serves (the
  // HTTP layer sends it to that payer's owner); the credits of payees served elsewhere leave in
  // transit, and payers served elsewhere pay through holds their owners place first
  // (actors/transaction_holds.cpp). Money from @world to an account served elsewhere, and (without
  // remote holds) payers on several instances, are refused before anything is decided.
  for (size_t i = 0; i < command.postings.size(); ++i) {
    const auto& p = command.postings[i];
    const bool payer_elsewhere = p.from != kWorld && owned_elsewhere(p.from);
    const bool payee_elsewhere = p.to != kWorld && owned_elsewhere(p.to);
    if ((payer_elsewhere && (!options_.remote_holds || p.to == kWorld)) ||
        (payee_elsewhere && p.from == kWorld)) {
      return command.reply(error_reply(
          domain::ErrorCode::accounts_across_owners,
          options_.remote_holds
              ? "a posting between @world and an account served by another instance is not "
                "supported in a transaction across owners (nothing changed)"
              : "the accounts paying in this transaction are served by more than one instance; "
                "a transaction across owners is supported for its payees only (nothing changed)"));
    }
    for (const auto* side : {&p.from, &p.to}) {
      if (*side != kWorld && owned_elsewhere(*side)) {
        command.foreign.emplace(*side, domain::partition_of(*side, options_.owned->partitions()));
      }
    }
    if (payer_elsewhere) command.held.push_back({static_cast<int>(i), p.from, {}});
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

namespace {

// The payees a transaction's owner reads before it goes on (as their actors would check a
// credit): those served elsewhere, and those of postings paid elsewhere (their credit comes with
// the capture of a hold, so no actor here checks it). Ordered, so that `next` counts through them.
std::vector<std::string> payees_to_read(const TransactionCommand& command) {
  std::set<std::string> payees;
  for (size_t i = 0; i < command.postings.size(); ++i) {
    const auto& p = command.postings[i];
    if (p.to == kWorld) continue;
    const bool paid_elsewhere =
        std::any_of(command.held.begin(), command.held.end(),
                    [i](const auto& h) { return h.posting == static_cast<int>(i); });
    if (command.foreign.count(p.to) || paid_elsewhere) payees.insert(p.to);
  }
  return {payees.begin(), payees.end()};
}

}  // namespace

void Ledger::check_payees_elsewhere(TransactionCommand command, size_t next) {
  const auto payees = payees_to_read(command);
  if (next >= payees.size()) {
    if (!command.held.empty()) return place_holds(std::move(command));
    caf::anon_send(coordinator_, transact_atom::value, std::move(command));
    return;
  }
  const std::string account = payees[next];
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
      return command.reply(Reply{domain::Refused{missing}});
    }
    if (found->currency != currency) {
      domain::Error mismatch{
          domain::ErrorCode::currency_mismatch,
          "account " + account + " holds " + found->currency + ", its posting moves " + currency,
          account};
      return command.reply(Reply{domain::Refused{mismatch}});
    }
    if (found->status == persistence::AccountStatus::closed) {
      // Decided, as the payee's actor would decide it: the key's outcome when keyed.
      domain::Error closed{domain::ErrorCode::account_closed, "account " + account + " is closed",
                           account};
      return answer_decided(command.tag, Reply{domain::Refused{closed}}, std::move(command.reply));
    }
    check_payees_elsewhere(std::move(command), next + 1);
  });
}

void Ledger::transaction(
    std::string transaction_id,
    std::function<void(domain::Result<std::optional<persistence::TransactionView>>)> reply) {
  records_->find_transaction(std::move(transaction_id), std::move(reply));
}

void Ledger::totals(
    bool verify,
    std::function<void(domain::Result<std::vector<persistence::CurrencyTotals>>)> reply) {
  records_->ledger_totals(verify, std::move(reply));
}

}  // namespace wallet::actors
