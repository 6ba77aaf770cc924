// Private to http/: the accounts of SPEC.md section 8 (GET /currencies, POST /accounts, GET and
// PATCH /accounts/{id}, GET /users/{id}/accounts), and what the money routes share with them for
// their account form: finding the accounts a request names and its amount in their currency.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "domain/currency.hpp"
#include "http/transaction_api.hpp"

namespace wallet::http {

void add_account_routes(Router& router, const TransactionApiDeps& deps);

nlohmann::json account_json(const actors::AccountView& account);

// The accounts named by an account-form request, in the order of `ids`; answers 404
// account_not_found (naming the first missing one) or 400 currency_mismatch (when they hold
// different currencies) itself and then does not call `then`.
void with_accounts(actors::Ledger& ledger, std::vector<std::string> ids, ResponderPtr responder,
                   std::function<void(std::vector<actors::AccountView>, ResponderPtr)> then);

// An amount as written, in minor units of a currency of `exponent` (zero allowed when
// `allow_zero`: an overdraft line); answers 400 invalid_amount itself when it does not fit.
std::optional<int64_t> minor_or_answer(const domain::Amount& written, int exponent, bool allow_zero,
                                       const ResponderPtr& responder);

// Answers the client with a ledger reply (Idempotent-Replayed on a replay).
std::function<void(actors::Reply)> answer_with(ResponderPtr responder);

// The idempotency tag of a keyed request: its endpoint, key and the hash of its meaning.
std::optional<actors::IdempotencyTag> tag_for(const char* endpoint,
                                              const std::optional<std::string>& key,
                                              const std::string& canonical);

// Closed is final: a request naming a closed account among `accounts` is refused with
// account_closed (a keyed one through the idempotency gate, which replays an outcome its key
// holds from before the close). True when refused. `name_account`: the error names the account
// (a transaction of many postings).
bool refused_as_closed(actors::Ledger& ledger, const std::vector<actors::AccountView>& accounts,
                       const std::optional<actors::IdempotencyTag>& tag,
                       const ResponderPtr& responder, bool name_account = false);

}  // namespace wallet::http
