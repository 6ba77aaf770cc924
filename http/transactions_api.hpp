// Private to http/: the transactions of many postings of SPEC.md section 8 (POST /transactions,
// GET /transactions/{id}, POST /transactions/{id}/reverse; the queries: http/query_api.hpp).
#pragma once

#include "http/transaction_api.hpp"

namespace wallet::http {

void add_transactions_routes(Router& router, const TransactionApiDeps& deps);

// A transaction as GET /transactions/{id} answers it (also each item of GET /transactions).
nlohmann::json view_json(const actors::TransactionView& view);

}  // namespace wallet::http
