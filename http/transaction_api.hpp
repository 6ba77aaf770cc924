// transaction-service's HTTP API (SPEC.md section 2): addMoney, transferMoney, balance, history,
// withdrawMoney and holds,
// and the admin API that inspects live account actors. Handlers decode and validate, hand the
// command to the Ledger, and answer from the Ledger's callback: they never block a reactor thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "actors/ledger.hpp"
#include "http/forwarding.hpp"
#include "http/router.hpp"

namespace wallet::http {

struct TransactionApiDeps {
  actors::Ledger& ledger;
  std::string admin_token;
  std::function<nlohmann::json()> bridges;  // state of the Kafka and NATS bridges
  // AUTH_JWT_SECRET: when set, addMoney needs an HS256 JWT with "role": "operator" and
  // transferMoney one whose "sub" is from_user_id (docs/security.md). Empty: no JWT required.
  std::string jwt_secret = {};
  // The partitions this instance holds (GET /admin/partitions marks them); null: none.
  std::shared_ptr<const actors::OwnedPartitions> owned = nullptr;
  // Beyond one machine: hands money requests for accounts served elsewhere to their owner; null:
  // this instance serves every account (one instance, PARTITION_OWNERSHIP=all or shared).
  std::shared_ptr<const OwnerRouting> routing = nullptr;
  // Where the operations of POST /transactions/bulk are counted (route "bulk:<endpoint>", apart
  // from single requests); null: not counted.
  Metrics* metrics = nullptr;
};

void add_transaction_routes(Router& router, TransactionApiDeps deps);

}  // namespace wallet::http
