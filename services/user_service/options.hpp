// user-service's configuration turned into the options of its two bridges (the outbox relay to
// Kafka, the balance requester over NATS), and the metrics those bridges report. The loader itself
// is service_config.hpp's load_config().
#pragma once

#include "http/metrics.hpp"
#include "messaging/nats_requester.hpp"
#include "messaging/outbox_relay.hpp"
#include "services/common/service_config.hpp"

namespace wallet::services {

// The outbox relay's: it publishes the `user-created` rows each new user's commit writes.
messaging::OutboxRelayOptions outbox_relay_options(const UserServiceConfig& config);

// The balance requester's; on_result records nats_requests_total and
// nats_request_duration_seconds in `metrics` (which must outlive the requester).
messaging::NatsRequesterOptions balance_requester_options(const UserServiceConfig& config,
                                                          http::Metrics& metrics);

// outbox_pending_rows (read from `relay` when scraped) and the descriptions of the requester's
// metrics.
void register_bridge_metrics(http::Metrics& metrics, const messaging::OutboxRelay& relay);

}  // namespace wallet::services
