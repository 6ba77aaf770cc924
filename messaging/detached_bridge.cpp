#include "messaging/detached_bridge.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace wallet::messaging {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void DetachedBridge::start(caf::actor_system& system, std::string name,
                           std::function<void(caf::blocking_actor*)> body,
                           std::function<void(const std::string&)> on_crash) {
  system_ = &system;
  worker_ =
      system.spawn<caf::detached>([name = std::move(name), body = std::move(body),
                                   on_crash = std::move(on_crash)](caf::blocking_actor* self) {
        try {
          body(self);
        } catch (const std::exception& e) {
          // Nothing is expected to throw here; if it does, the service reports not ready.
          spdlog::critical("event={}_crashed cause=\"{}\"", name, e.what());
          on_crash(e.what());
        }
      });
}

void DetachedBridge::wake() const {
  if (worker_) caf::anon_send(worker_, bridge_wake_atom::value);
}

void DetachedBridge::stop() {
  // worker_ stays set: wake() may still run on another thread (a late message to a finished
  // actor is dropped).
  if (!worker_ || stopped_.exchange(true)) return;
  caf::scoped_actor self{*system_};
  self->send(worker_, bridge_stop_atom::value);
  self->wait_for(worker_);
}

void run_relay_loop(caf::blocking_actor* self, const RelayLoopOptions& options,
                    const std::function<PassResult()>& pass) {
  auto backoff = options.min_backoff;
  bool failing = false;
  bool more = true;  // publish at once what an earlier run left behind
  bool stopping = false;
  bool paused = false;  // failing, or standing by for another instance's relay
  auto retry_at = Clock::now();
  auto last_pass = Clock::now() - options.linger;
  auto on_wake = [](bridge_wake_atom) {};
  auto on_stop = [&stopping](bridge_stop_atom) { stopping = true; };
  while (!stopping) {
    std::chrono::milliseconds wait = options.idle_poll;
    if (more) {
      wait = 0ms;
    } else if (paused) {
      wait = std::max(0ms, std::chrono::ceil<std::chrono::milliseconds>(retry_at - Clock::now()));
    }
    self->receive(
        on_wake, on_stop, caf::after(wait) >> [] {});
    if (stopping) break;
    if (paused && Clock::now() < retry_at) continue;  // a wake does not cut a pause short
    // Linger: a pass per commit would cost Postgres, Kafka and this process a round trip for a
    // handful of rows; one pass per `linger` carries hundreds for the same fixed cost.
    for (auto until = last_pass + options.linger; !more && !stopping && Clock::now() < until;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      self->receive(
          on_wake, on_stop, caf::after(std::max(left, 1ms)) >> [] {});
    }
    if (stopping) break;
    // Wakes that piled up during the last pass are all served by the next one.
    for (bool got = true; got && !stopping;) {
      got = false;
      self->receive([&got](bridge_wake_atom) { got = true; }, on_stop, caf::after(0ms) >> [] {});
    }
    if (stopping) break;
    last_pass = Clock::now();
    const auto result = pass();
    more = false;
    if (result.standby) {
      // Only the leader publishes; look again for the lead at its own pace, not per wake.
      paused = true;
      retry_at = Clock::now() + options.standby_retry;
    } else if (result.ok) {
      if (failing) spdlog::info("event={}_recovered", options.name);
      failing = paused = false;
      backoff = options.min_backoff;
      more = result.rows >= options.batch_size;
    } else {
      failing = paused = true;
      retry_at = Clock::now() + backoff;
      backoff = std::min(backoff * 2, options.max_backoff);
    }
  }
}

}  // namespace wallet::messaging
