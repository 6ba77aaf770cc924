// The checks of transactions of many postings (SPEC.md section 8, "Transactions of many postings"
// and "Events and invariants"), on the model's committed state once the schedule is at rest
// (nothing in transit any more: the credits of payees another instance serves have landed). One
// checker per invariant; each returns one failure text per violation.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// Atomicity: every committed transaction (a row of ledger_transactions) has exactly the rows of
// its postings (per posting the debit row of its `from` and the credit row of its `to`, one row
// when a side is @world; kinds, accounts, amounts and the accounts' currency as the posting says)
// and nothing else with its id; no row names a transaction that did not commit (a transaction
// applied in part); and its rows net to zero per currency counting @world.
std::vector<std::string> check_transaction_rows(const ModelState& state);

// Every 201 a client got for a transaction or a reversal names a committed transaction with the
// postings it sent (a reversal: of the transaction it reversed). Together with
// check_transaction_rows: all of its rows committed, each once.
std::vector<std::string> check_transaction_answers(
    const std::vector<std::shared_ptr<ClientOp>>& ops, const ModelState& state);

// Per currency: the sum of the balances of its accounts plus the money in transit equals what they
// started with plus deposits minus withdrawals (the rows from and to @world, of the release 1
// endpoints and of transactions alike): transfers and postings between accounts move money, never
// make or lose it. `initial`: every account's starting balance.
std::vector<std::string> check_money_per_currency(const ModelState& state,
                                                  const std::map<std::string, int64_t>& initial);

// Reversals: each reverses a committed transaction with its postings inverted (every posting's
// amount, or part of its one posting); per original, what its committed reversals reverse in all
// is at most its amount (1 of 1 for a whole transaction of several postings) and is what
// transaction_reversals holds.
std::vector<std::string> check_reversals(const ModelState& state);

// A transaction's refusal (409 insufficient_funds, account_frozen, account_closed; 404
// account_not_found) names one of its accounts and is justified by committed state at some
// commit while it was handled: the account's net change over the transaction exceeded what it
// could spend (balance + line - pending holds), it paid in a posting while frozen, it was closed;
// a missing account never existed. A reversal's 409 already_reversed: the original's committed
// reversals left less than it asked for (or than its command carried, refused by the guard).
// `initial`: the rules the accounts started with; `excused`: answers a known limit excuses (an
// instance that lost a partition unknowingly).
std::vector<std::string> check_transaction_refusals(
    const std::vector<std::shared_ptr<ClientOp>>& ops, const ModelState& state,
    const std::map<std::string, ModelRules>& initial,
    const std::function<bool(const ClientOp&)>& excused);

}  // namespace wallet::simulation
