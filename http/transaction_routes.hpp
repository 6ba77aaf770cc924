// Private to http/: the capabilities add_transaction_routes wires, one file each (money_api.cpp,
// balance_api.cpp, holds_api.cpp, admin_api.cpp), and the helpers more than one of them uses.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/account_api.hpp"
#include "http/forwarding.hpp"
#include "http/transaction_api.hpp"

namespace wallet::http {

constexpr int kMaxHistoryLimit = 1000;

// POST /addMoney, /transferMoney and /withdrawMoney.
void add_money_routes(Router& router, const TransactionApiDeps& deps);
// GET /users/{user_id}/balance and /users/{user_id}/transactions.
void add_balance_routes(Router& router, actors::Ledger& ledger);
// POST /holds, /holds/{hold_id}/capture and /holds/{hold_id}/void; GET /holds/{hold_id}.
void add_hold_routes(Router& router, actors::Ledger& ledger,
                     std::shared_ptr<const OwnerRouting> routing);
// The admin API that inspects live account actors, the totals, the bridges and the partitions.
void add_admin_routes(Router& router, const TransactionApiDeps& deps);

std::optional<std::string> path_user_id(const HttpRequest& request, const ResponderPtr& responder);

// The money routes' two forms (SPEC.md section 8): the user form starts at once; the account form
// first finds the accounts it names (404 account_not_found, 400 currency_mismatch) and turns its
// amount into minor units of their currency (400 invalid_amount).
template <class Request>
void start_in_either_form(
    actors::Ledger& ledger, Request request, std::vector<std::string> accounts,
    ResponderPtr responder,
    std::function<void(Request, const std::vector<actors::AccountView>&, ResponderPtr)> start) {
  if (!request.account_form) return start(std::move(request), {}, std::move(responder));
  with_accounts(ledger, std::move(accounts), std::move(responder),
                [request = std::move(request), start = std::move(start)](
                    std::vector<actors::AccountView> found, ResponderPtr responder) mutable {
                  auto minor =
                      minor_or_answer(request.written, found.front().exponent, false, responder);
                  if (!minor) return;
                  request.amount = *minor;
                  start(std::move(request), found, std::move(responder));
                });
}

// Beyond one machine: true when the request went to the owner of `user_id`'s partition (or was
// answered): the handler stops there.
bool served_elsewhere(const std::shared_ptr<const OwnerRouting>& routing,
                      const std::string& user_id, const HttpRequest& request,
                      const ResponderPtr& responder);

}  // namespace wallet::http
