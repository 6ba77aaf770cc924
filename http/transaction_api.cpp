// The routes of transaction-service, wired by capability: money_api.cpp, balance_api.cpp,
// holds_api.cpp, account_api.cpp, transactions_api.cpp, admin_api.cpp, transaction_holds_api.cpp,
// bulk_api.cpp;
// and the helpers they share (http/transaction_routes.hpp).
#include "http/transaction_api.hpp"

#include "domain/ids.hpp"
#include "http/bulk_api.hpp"
#include "http/transaction_holds_api.hpp"
#include "http/transaction_routes.hpp"
#include "http/transactions_api.hpp"

namespace wallet::http {

std::optional<std::string> path_user_id(const HttpRequest& request, const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("user_id"));
  if (!id) responder->send_error({domain::ErrorCode::invalid_user_id, "user_id must be a UUID"});
  return id;
}

bool served_elsewhere(const std::shared_ptr<const OwnerRouting>& routing,
                      const std::string& user_id, const HttpRequest& request,
                      const ResponderPtr& responder) {
  return routing && routing->elsewhere(user_id, request, responder);
}

void add_transaction_routes(Router& router, TransactionApiDeps deps) {
  add_money_routes(router, deps);
  add_balance_routes(router, deps.ledger);
  add_hold_routes(router, deps.ledger, deps.routing);
  add_account_routes(router, deps);
  add_transactions_routes(router, deps);
  add_admin_routes(router, deps);
  add_transaction_hold_routes(router, deps);  // across owners, between instances
  add_bulk_route(router, deps);
}

}  // namespace wallet::http
