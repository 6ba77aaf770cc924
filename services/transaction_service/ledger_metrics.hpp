// The metrics transaction-service publishes beyond the HTTP server's and the database's: the
// ledger's actors and holds, transfers in transit, the ledger-events relay and the user-created
// consumer. Each reads its source when scraped; the sources must outlive `metrics`' scrapes.
#pragma once

#include "actors/ledger.hpp"
#include "http/metrics.hpp"
#include "messaging/bridges.hpp"
#include "messaging/ledger_event_relay.hpp"

namespace wallet::services {

// ledger_*, wallet_in_transit_*, wallet_credits_arrived_total, wallet_idempotency_* (from
// Ledger::gauges() and in_flight()); also describes ledger_commit_seconds and
// ledger_batch_mutations_total, which LedgerOptions::on_commit records.
void register_ledger_metrics(http::Metrics& metrics, actors::Ledger& ledger);

// ledger_events_pending and ledger_events_published_total (LEDGER_EVENTS=on only).
void register_ledger_event_metrics(http::Metrics& metrics, messaging::LedgerEventRelay& relay);

// kafka_consumer_lag and kafka_dead_letters_total of the user-created consumer.
void register_consumer_metrics(http::Metrics& metrics, messaging::UserCreatedConsumer& consumer);

}  // namespace wallet::services
