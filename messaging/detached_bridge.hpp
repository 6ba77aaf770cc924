// The scaffold every Kafka bridge runs on (the two outbox relays and the user-created consumer):
// a detached CAF actor, its own thread because librdkafka and libpq calls block, driven by wake and
// stop messages; an exception its body lets escape is logged and reported, never taken down with
// the process; stop() waits until the body returned. run_relay_loop is the pass loop both outbox
// relays share: wake or idle poll, back-off while passes fail, stand-by while another instance
// leads, an optional linger between passes.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace wallet::messaging {

using bridge_wake_atom = caf::atom_constant<caf::atom("wake")>;
using bridge_stop_atom = caf::atom_constant<caf::atom("stop")>;

class DetachedBridge {
 public:
  DetachedBridge() = default;
  DetachedBridge(const DetachedBridge&) = delete;
  DetachedBridge& operator=(const DetachedBridge&) = delete;

  // Spawns `body` on its own thread; call once, before anything may call wake(). If it throws, logs
  // `event=<name>_crashed` and calls `on_crash` with the cause (the bridge then reports itself
  // failed).
  void start(caf::actor_system& system, std::string name,
             std::function<void(caf::blocking_actor*)> body,
             std::function<void(const std::string&)> on_crash);
  // Sends a wake message; nothing when not started. Callable from any thread.
  void wake() const;
  // Sends the stop message and waits for the body to return. Idempotent.
  void stop();
  bool started() const { return static_cast<bool>(worker_); }
  const caf::actor& worker() const { return worker_; }

 private:
  caf::actor_system* system_ = nullptr;
  caf::actor worker_;  // set once by start(), before any wake()
  std::atomic<bool> stopped_{false};
};

// What one relay pass did.
struct PassResult {
  size_t rows = 0;
  size_t delivered = 0;
  bool ok = true;
  bool standby = false;  // another instance's relay leads
};

struct RelayLoopOptions {
  std::string name;  // for the log: event=<name>_recovered
  size_t batch_size = 500;
  std::chrono::milliseconds idle_poll{1000};  // a pass this often without a wake
  std::chrono::milliseconds linger{0};        // least time between two passes unless one was full
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds standby_retry{1000};  // how often a standby looks for the lead again
};

// Runs passes until a stop message arrives, then returns (the relay makes its last bounded pass
// itself). A pass runs at once after a full one, else after a wake (all wakes that piled up are
// served by one pass) or the idle poll; a failed pass pauses the loop for an exponential back-off
// that a wake does not cut short.
void run_relay_loop(caf::blocking_actor* self, const RelayLoopOptions& options,
                    const std::function<PassResult()>& pass);

}  // namespace wallet::messaging
