// The checks of transactions across owners (SPEC.md section 8 "Across owners", DESIGN.md section
// 10, actors/transaction_holds.cpp): one checker per invariant, each returning one failure text
// per violation. `holds` of a transaction are those of the model's `holds` that name it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// At every commit point (called after each commit of either instance): no transaction's debits
// are applied in part. A transaction with any row has its record; decided `abort`, it has no row;
// otherwise each of its postings with a payer has its debit row, or a pending hold of the
// transaction for that posting covers it (the rest is still held, to be captured).
std::vector<std::string> check_debits_whole(const ModelState& state);

// At rest: every transaction with holds is decided; `commit`: every hold captured in full (its
// rows are check_transaction_rows'); `abort`: every hold voided, no row and no record name it; no
// hold of a transaction is pending.
std::vector<std::string> check_holds_settled(const ModelState& state);

// This instance's clients: a transaction across owners it coordinated (`coordinated`: the ids
// its holds named) is decided `commit` exactly when some client was told 201 for it.
std::vector<std::string> check_decision_answers(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                                const ModelState& state,
                                                const std::set<std::string>& coordinated);

// A transaction across owners is checked otherwise than one of one owner (whose accounts' net
// changes are checked): a payer another instance serves has each posting it pays held in full,
// and an account of this instance is checked on its postings here, without the credits paid by
// holds elsewhere (they land after the decision). `elsewhere`: the payers whose holds another
// instance was asked to place (any time: a partition given away is served elsewhere meanwhile).
// A refusal insufficient_funds of a transaction with such a payer is justified when, at some
// commit while `op` was handled, what the account could spend (balance + line - pending holds)
// was below one posting it pays, or below its net change without credits from such payers.
bool across_refusal_justified(const ClientOp& op, const ModelState& state,
                              const std::map<std::string, ModelRules>& initial,
                              const std::set<std::string>& elsewhere);

}  // namespace wallet::simulation
