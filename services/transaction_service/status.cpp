// transaction-service's readiness checks and GET /admin/bridges' state (status.hpp).
#include "services/transaction_service/status.hpp"

namespace wallet::services {

std::vector<http::ReadinessProbe::Check> readiness_checks(persistence::DbPool& reader,
                                                          actors::Ledger& ledger,
                                                          messaging::UserCreatedConsumer& consumer,
                                                          messaging::BalanceResponder& responder,
                                                          KafkaOwnership* kafka) {
  std::vector<http::ReadinessProbe::Check> checks{
      // The ledger refuses money operations at once while its database is unreachable.
      {"postgres",
       [&reader, &ledger] {
         const bool reachable = reader.ping();
         ledger.set_database_reachable(reachable);
         return reachable;
       }},
      {"kafka", [&consumer] { return consumer.healthy(); }},
      {"nats", [&responder] { return responder.healthy(); }}};
  if (kafka) checks.push_back({"partitions", [kafka] { return kafka->serving(); }});
  return checks;
}

std::function<nlohmann::json()> bridges_status(messaging::UserCreatedConsumer& consumer,
                                               messaging::BalanceResponder& responder,
                                               messaging::LedgerEventRelay* events,
                                               KafkaOwnership* kafka) {
  return [&consumer, &responder, events, kafka] {
    nlohmann::json state{
        {"kafka_consumer", consumer.status()},
        {"nats_responder", responder.status()},
        {"ledger_events", events ? events->status() : nlohmann::json{{"state", "off"}}}};
    if (kafka) {
      state["partition_ownership"] = kafka->group_status();
      state["partition_requests"] = kafka->requests_status();
    }
    return state;
  };
}

}  // namespace wallet::services
