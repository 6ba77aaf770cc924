// transaction-service's configuration turned into its components' options, with the checks of the
// settings only this service reads (the loader itself is service_config.hpp's load_config()).
// Every check logs `event=startup_failed` with its cause and returns false or nullopt.
#pragma once

#include <memory>
#include <optional>

#include "actors/ledger.hpp"
#include "http/metrics.hpp"
#include "messaging/bridges.hpp"
#include "messaging/ledger_event_relay.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "services/common/service_config.hpp"

namespace wallet::services {

// LEDGER_EVENTS is on or off.
bool ledger_events_valid(const TransactionServiceConfig& config);

// CURRENCIES and DEFAULT_CURRENCY (SPEC.md section 8) parsed and set for the process: call before
// any other thread starts (domain/currency.hpp).
bool set_currencies(const TransactionServiceConfig& config);

// The Postgres backend's options; nullopt when LEDGER_WRITE_LANES is not 1 to 32 or
// LEDGER_MAX_BATCH is below 1.
std::optional<persistence::PostgresLedgerOptions> ledger_backend_options(
    const TransactionServiceConfig& config);

// The ledger-events relay's (LEDGER_EVENTS=on): it publishes the outbox rows each commit writes.
messaging::LedgerEventRelayOptions ledger_event_relay_options(
    const TransactionServiceConfig& config);

// The Ledger's: its limits and deadlines; on_commit records ledger_commit_seconds and
// ledger_batch_mutations_total and wakes `events` (null: LEDGER_EVENTS=off). By
// PARTITION_OWNERSHIP: kafka serves only `owned`'s partitions and, with an ADMIN_TOKEN, reaches
// other payers' owners through remote_holds (left empty: KafkaOwnership fills it in); all also
// credits transfers left in transit to any partition.
actors::LedgerOptions ledger_options(const TransactionServiceConfig& config,
                                     const persistence::PostgresLedgerOptions& backend,
                                     http::Metrics& metrics, messaging::LedgerEventRelay* events,
                                     const std::shared_ptr<persistence::OwnedPartitions>& owned);

// The user-created consumer's.
messaging::ConsumerOptions consumer_options(const TransactionServiceConfig& config);

}  // namespace wallet::services
