// Private to http/: the queries of SPEC.md section 8 ("Metadata, queries, balances in the past"):
// GET /transactions, GET /accounts/{account_id}/transactions and GET
// /accounts/{account_id}/balance.
#pragma once

#include "http/transaction_api.hpp"

namespace wallet::http {

void add_query_routes(Router& router, const TransactionApiDeps& deps);

}  // namespace wallet::http
