// The ThreadSanitizer control for CAF (scripts/tsan): the hand-offs the services make, and nothing
// else. Threads that are not CAF's (like an HTTP reactor, a cnats callback or a DB pool thread)
// build heap data and anon_send it to a stateful actor; the actor reads it and updates its state on
// whichever CAF worker runs it; a scoped_actor asks it with request/receive and reads the answer;
// a second actor forwards each message to the first (actor to actor). All synchronization is
// CAF's mailbox and scheduler.
//
// Linked against Debian's libcaf_core.so (not instrumented) TSan reports these hand-offs as races,
// because it cannot see the atomics inside the library; linked against the CAF that scripts/tsan
// builds with -fsanitize=thread it must report nothing. The first is the control that shows the
// check can fail, the second that CAF's hand-offs are race-free once TSan can see them.
//   wallet_tsan_caf_handoff [messages per thread]   (exit 0; TSan's exit code 66 on a report)
#include <caf/all.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct counter_state {
  std::map<std::string, std::vector<int>> seen;
  long total = 0;
};

caf::behavior counter(caf::stateful_actor<counter_state>* self) {
  return {
      [=](const std::string& key, const std::vector<int>& values) {
        auto& entry = self->state.seen[key];
        entry.insert(entry.end(), values.begin(), values.end());
        if (entry.size() > 64) entry.erase(entry.begin(), entry.begin() + 32);
        self->state.total += static_cast<long>(values.size());
      },
      [=](caf::get_atom) { return self->state.total; },
  };
}

caf::behavior forwarder(caf::event_based_actor*, caf::actor target) {
  return {
      [=](const std::string& key, std::vector<int>& values) {
        values.push_back(static_cast<int>(key.size()));
        caf::anon_send(target, key, std::move(values));
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  const int per_thread = argc > 1 ? std::atoi(argv[1]) : 4000;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 4);
  caf::actor_system system{cfg};
  auto target = system.spawn(counter);
  auto relay = system.spawn(forwarder, target);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string key = "key-" + std::to_string((t * 7 + i) % 13);
        std::vector<int> values(static_cast<size_t>(1 + i % 5), i);
        caf::anon_send(i % 2 ? relay : target, std::move(key), std::move(values));
      }
    });
  }
  long total = 0;
  {
    caf::scoped_actor self{system};
    for (int i = 0; i < 200; ++i) {
      self->request(target, caf::infinite, caf::get_atom::value)
          .receive([&](long n) { total = n; }, [&](caf::error&) {});
    }
  }
  for (auto& thread : threads) thread.join();
  caf::scoped_actor self{system};
  long expected = 0;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < per_thread; ++i) expected += 1 + i % 5 + (i % 2);
  for (int wait = 0; wait < 600 && total != expected; ++wait) {
    self->request(target, caf::infinite, caf::get_atom::value)
        .receive([&](long n) { total = n; }, [&](caf::error&) {});
    if (total != expected) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("caf_handoff: %ld of %ld values delivered\n", total, expected);
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  return total == expected ? 0 : 1;
}
