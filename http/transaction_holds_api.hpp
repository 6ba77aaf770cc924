// Transactions across owners (actors/transaction_holds.cpp), between instances.
// The instance that coordinates a transaction reaches the owners of its other payers through two
// internal admin routes, sent as forwarded requests over NATS (http/forwarding.hpp):
//   POST /admin/transaction-holds                    places a hold of the transaction
//   POST /admin/transaction-holds/{hold_id}/settle   settles it as the transaction was decided
// Both need the admin token, which every instance of one deployment shares.
#pragma once

#include <memory>
#include <string>

#include "http/forwarding.hpp"
#include "http/transaction_api.hpp"

namespace wallet::http {

void add_transaction_hold_routes(Router& router, const TransactionApiDeps& deps);

// How this instance's Ledger reaches the owners of other payers: the internal routes above, sent
// to the partition of each payer with `send` (the instance's OwnerRouting transport).
actors::RemoteHolds remote_holds_over(SendToOwner send,
                                      std::shared_ptr<const actors::OwnedPartitions> owned,
                                      std::string admin_token);

}  // namespace wallet::http
