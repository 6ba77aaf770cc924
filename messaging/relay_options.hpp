// RelayOptions: what both outbox relays are tuned by. A header of its own so that the relays'
// users do not compile librdkafka's (relay_runner.hpp, which RelayRunner needs).
#pragma once

#include <chrono>
#include <string>

namespace wallet::messaging {

// What every outbox relay is tuned by; each relay's options struct states its own batch size and
// idle poll (see OutboxRelayOptions, LedgerEventRelayOptions).
struct RelayOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string database_url;
  int batch_size;
  // Looks for pending rows this often even without a wake(): rows left by a crashed instance,
  // committed by another one or while this one was in back-off.
  std::chrono::milliseconds idle_poll;
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  int message_timeout_ms = 10000;  // a delivery fails (and is retried) after this long

 protected:
  RelayOptions(int batch_size_default, std::chrono::milliseconds idle_poll_default)
      : batch_size(batch_size_default), idle_poll(idle_poll_default) {}
};

}  // namespace wallet::messaging
