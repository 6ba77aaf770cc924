// RelayRunner: the running half both outbox relays share (user-service's OutboxRelay and
// transaction-service's LedgerEventRelay): their OutboxPublisher, the detached actor that runs
// their passes in run_relay_loop, the stop that ends with one last bounded pass, and how a pass
// that published ends. Each relay keeps what is its own: its outbox and its pass (which rows, how a
// row becomes a message, how the delivered rows are settled), how it is woken (a LISTEN thread, or
// wake() after the ledger's commits), how it counts what is pending, its defaults and its producer
// tuning.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "messaging/detached_bridge.hpp"
#include "messaging/outbox_publisher.hpp"
#include "messaging/relay_options.hpp"

namespace wallet::messaging {

class RelayRunner {
 public:
  // One pass, which may wait up to `report_wait` for its delivery reports.
  using Pass = std::function<PassResult(std::chrono::milliseconds report_wait)>;

  // `publisher` names the relay and tunes its producer (its brokers and message timeout are taken
  // from `options`); the pass loop is named <publisher.name>_relay (the actor, its log events).
  RelayRunner(const RelayOptions& options, OutboxPublisherOptions publisher,
              std::chrono::milliseconds linger, std::chrono::milliseconds standby_retry);
  RelayRunner(const RelayRunner&) = delete;
  RelayRunner& operator=(const RelayRunner&) = delete;
  // A relay calls stop() in its own destructor, before the outbox its pass reads is destroyed.
  ~RelayRunner() { stop(); }

  // Runs `pass` on a detached actor until stop(), then once more within a last bounded wait. False
  // when the producer cannot be created: the relay is noted failed and stays stopped.
  bool start(caf::actor_system& system, Pass pass);
  // Sends a wake message unless stopped. Callable from any thread.
  void wake() const;
  // True for the call that stopped the relay (it returns after the last pass). Idempotent.
  bool stop();
  bool stopped() const { return stopped_.load(); }

  OutboxPublisher& publisher() { return publisher_; }
  // A pass that found another instance's relay leading: noted as standby.
  PassResult stand_by();
  // How a pass that published `rows` ends, once the delivered ones were `settled` in the outbox or
  // not (then `event=<settle_failed_event>` is logged and it backs off on `database_cause`; those
  // rows are published once more later: at least once): a failed delivery backs off on Kafka's
  // cause, else the relay runs on.
  PassResult end_pass(size_t rows, const OutboxDelivery& delivery, bool settled,
                      const char* settle_failed_event, const std::string& database_cause);

  bool healthy() const { return !stopped() && publisher_.healthy(); }
  int64_t pending() const { return publisher_.pending(); }
  uint64_t published() const { return publisher_.published(); }
  nlohmann::json status() const { return publisher_.status(); }

 private:
  void run(caf::blocking_actor* self, const Pass& pass);

  OutboxPublisher publisher_;
  RelayLoopOptions loop_;
  const std::chrono::milliseconds report_wait_;
  DetachedBridge bridge_;
  std::atomic<bool> stopped_{false};
};

}  // namespace wallet::messaging
