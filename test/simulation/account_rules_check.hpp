// The account rules checks (SPEC.md section 8, "Accounts"): an account actor decides a change of
// its rules (update_account) and every debit against them in its own order, and Postgres guards
// only part of that (balance updates, not new holds). On the model's committed state, in commit
// order: the rules always hold; no debit or new hold commits while its account is frozen or
// closed, nothing at all once it is closed; each answer to an account update agrees with what
// committed; and a refusal for an account's rules is one Postgres justified while the request was
// being handled.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// What the committed state holds of every account, checked after each commit: a line >= 0,
// balance >= -line, pending holds within balance plus line, and a closed account empty (balance
// 0, no pending hold, no credit in transit to it).
std::vector<std::string> check_rules_held(const ModelState& state);

// In commit order (ModelState::rules_log against the commit points of rows and holds): no debit
// row and no new hold of an account while it was frozen or closed, and no row of any kind once it
// was closed. `initial`: the rules the accounts started with.
std::vector<std::string> check_rules_order(const ModelState& state,
                                           const std::map<std::string, ModelRules>& initial);

// Each account update answered 200 is a change committed while it was being handled, one change
// per answer; each change this instance committed was answered 200 (a refusal, an outage or a
// timeout changed nothing). `foreign`: the commits of another instance.
std::vector<std::string> check_update_answers(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                              const ModelState& state,
                                              const std::set<uint64_t>& foreign);

// A refusal for an account's rules is decided on committed state: at some commit while the request
// was handled (from the first sending of its key), account_frozen named an account Postgres held
// frozen, account_closed one it held closed, account_not_empty an account with money or a pending
// hold, limit_below_debt a line that would not cover the debt and the holds. `excused`: answers a
// known limit excuses (an instance that lost a partition unknowingly answers from its memory).
// (A transaction's refusal names its account: check_transaction_refusals judges it.)
std::vector<std::string> check_rules_refusals(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                              const ModelState& state,
                                              const std::map<std::string, ModelRules>& initial,
                                              const std::function<bool(const ClientOp&)>& excused);

}  // namespace wallet::simulation
