// Private to http/: the transactions of many postings of SPEC.md section 8 (POST /transactions,
// GET /transactions/{id}, POST /transactions/{id}/reverse).
#pragma once

#include "http/transaction_api.hpp"

namespace wallet::http {

void add_transactions_routes(Router& router, const TransactionApiDeps& deps);

}  // namespace wallet::http
