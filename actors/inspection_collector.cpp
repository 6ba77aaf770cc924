#include "actors/inspection_collector.hpp"

#include <chrono>

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<CollectorState>*;

void finish(Self self) {
  self->state.reply(std::move(self->state.snapshots));
  self->quit();
}

}  // namespace

caf::behavior inspection_collector(caf::stateful_actor<CollectorState>* self, size_t expected,
                                   std::function<void(std::vector<AccountSnapshot>)> reply) {
  self->state.expected = expected;
  self->state.reply = std::move(reply);
  self->state.snapshots.reserve(expected);
  if (expected == 0) {
    self->send(self, timeout_atom::value);
  } else {
    self->delayed_send(self, std::chrono::seconds(2), timeout_atom::value);
  }
  return {
      [=](snapshot_atom, AccountSnapshot& snapshot) {
        self->state.snapshots.push_back(std::move(snapshot));
        if (self->state.snapshots.size() == self->state.expected) finish(self);
      },
      [=](timeout_atom) { finish(self); },
  };
}

}  // namespace wallet::actors
