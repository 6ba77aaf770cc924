// What transaction-service reports about its parts: the readiness checks (GET /readyz) and
// the state of its bridges (GET /admin/bridges). Both read the parts by reference when asked.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "actors/ledger.hpp"
#include "http/common.hpp"
#include "messaging/bridges.hpp"
#include "messaging/ledger_event_relay.hpp"
#include "persistence/db_pool.hpp"
#include "services/transaction_service/ownership.hpp"

namespace wallet::services {

// Readiness means serving: Postgres, Kafka and NATS reachable and, with kafka ownership (`kafka`
// set), the group's assignment settled and served (KafkaOwnership::serving). The Postgres check
// also tells `ledger` whether its database is reachable (Ledger::set_database_reachable).
std::vector<http::ReadinessProbe::Check> readiness_checks(persistence::DbPool& reader,
                                                          actors::Ledger& ledger,
                                                          messaging::UserCreatedConsumer& consumer,
                                                          messaging::BalanceResponder& responder,
                                                          KafkaOwnership* kafka);

// The consumer's, the responder's, the ledger-events relay's (`events` null: "off") and, with
// kafka ownership, the group's and the forwarded requests' state.
std::function<nlohmann::json()> bridges_status(messaging::UserCreatedConsumer& consumer,
                                               messaging::BalanceResponder& responder,
                                               messaging::LedgerEventRelay* events,
                                               KafkaOwnership* kafka);

}  // namespace wallet::services
