// Private to http/: POST /transactions/bulk, up to 1,000 independent money operations in one
// request (docs/api.md "Bulk"). Each operation runs through the very handler of its endpoint
// (/addMoney, /transferMoney, /withdrawMoney, /holds..., /transactions, .../reverse) as a request
// of its own with its own Idempotency-Key and the bulk's Authorization: the same validation,
// forwarding to the account's owner, idempotency and deadline. The answer is 200 with every
// operation's status and body in request order, once the last one is known.
#pragma once

#include "http/transaction_api.hpp"

namespace wallet::http {

void add_bulk_route(Router& router, const TransactionApiDeps& deps);

}  // namespace wallet::http
