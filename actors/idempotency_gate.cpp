#include "actors/idempotency_gate.hpp"

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<GateState>*;
using Phase = GateSlot::Phase;

std::string slot_name(const IdempotencyTag& tag) { return tag.endpoint + '\n' + tag.key; }

Reply mismatch() {
  return error_reply(domain::ErrorCode::idempotency_key_mismatch,
                     "this Idempotency-Key was used with a different request");
}

Reply replay_of(const Reply& outcome) {
  Reply replay = outcome;
  replay.replayed = true;
  return replay;
}

void remember(Self self, const std::string& name, GateSlot& slot, Reply outcome) {
  auto& s = self->state;
  slot.phase = Phase::done;
  slot.done_at = self->clock().now();
  slot.outcome = std::move(outcome);
  slot.execute = nullptr;
  s.done_order.push_back(name);
  slot.lru = std::prev(s.done_order.end());
  while (s.done_order.size() > s.capacity) {
    s.slots.erase(s.done_order.front());
    s.done_order.pop_front();
  }
}

constexpr size_t kMaxLookupBatch = 512;

void run_lookups(Self self) {
  auto& s = self->state;
  if (s.lookup_running || s.lookup_queue.empty()) return;
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::string>> keys;
  const size_t n = std::min(s.lookup_queue.size(), kMaxLookupBatch);
  for (size_t i = 0; i < n; ++i) {
    auto it = s.slots.find(s.lookup_queue[i]);
    if (it == s.slots.end()) continue;
    names.push_back(s.lookup_queue[i]);
    keys.emplace_back(it->second.tag.endpoint, it->second.tag.key);
  }
  s.lookup_queue.erase(s.lookup_queue.begin(), s.lookup_queue.begin() + static_cast<long>(n));
  s.lookup_running = true;
  auto me = caf::actor_cast<caf::actor>(self);
  using Found = std::vector<persistence::IdempotencyOutcome>;
  s.backend->find_outcomes(std::move(keys),
                           [me, names = std::move(names)](domain::Result<Found> found) mutable {
                             StoredLookup lookup;
                             lookup.slots = std::move(names);
                             if (found) {
                               lookup.found.swap(found.value());
                             } else {
                               lookup.error = found.error();
                             }
                             caf::anon_send(me, lookup_atom::value, std::move(lookup));
                           });
}

void lookup(Self self, const std::string& name) {
  self->state.lookup_queue.push_back(name);
  run_lookups(self);
}

enum class Answer { original_then_replays, replays, same_for_all };

// Answers every waiter of a finished slot; those whose request differs get 422.
void answer_waiters(GateSlot& slot, Answer answer) {
  auto waiters = std::move(slot.waiters);
  slot.waiters.clear();
  bool original = answer == Answer::original_then_replays;
  for (auto& [hash, reply] : waiters) {
    if (hash != slot.request_hash) {
      reply(mismatch());
    } else if (original || answer == Answer::same_for_all) {
      original = false;
      reply(slot.outcome);
    } else {
      reply(replay_of(slot.outcome));
    }
  }
}

}  // namespace

caf::behavior idempotency_gate(caf::stateful_actor<GateState>* self,
                               std::shared_ptr<persistence::LedgerBackend> backend, size_t capacity,
                               std::chrono::seconds ttl) {
  self->state.backend = backend;
  self->state.capacity = capacity;
  self->state.ttl = ttl;
  return {
      [=](call_atom, IdempotentCall& call) {
        auto& s = self->state;
        const std::string name = slot_name(call.tag);
        auto it = s.slots.find(name);
        if (it != s.slots.end() && it->second.phase == Phase::done &&
            self->clock().now() - it->second.done_at > s.ttl) {
          // Expired: a key reused after its retention is a new operation.
          s.done_order.erase(it->second.lru);
          s.slots.erase(it);
          it = s.slots.end();
        }
        if (it == s.slots.end()) {
          GateSlot slot;
          slot.tag = call.tag;
          slot.request_hash = call.tag.request_hash;
          slot.execute = std::move(call.execute);
          slot.waiters.emplace_back(call.tag.request_hash, std::move(call.reply));
          s.slots.emplace(name, std::move(slot));
          lookup(self, name);
          return;
        }
        auto& slot = it->second;
        if (slot.phase == Phase::done) {
          s.done_order.splice(s.done_order.end(), s.done_order, slot.lru);
          call.reply(call.tag.request_hash == slot.request_hash ? replay_of(slot.outcome)
                                                                : mismatch());
        } else if (slot.phase == Phase::executing && call.tag.request_hash != slot.request_hash) {
          call.reply(mismatch());
        } else {
          // Looking up: the stored hash is not known yet, so the check happens with the answer.
          slot.waiters.emplace_back(call.tag.request_hash, std::move(call.reply));
        }
      },
      [=](lookup_atom, StoredLookup& lookup) {
        auto& s = self->state;
        s.lookup_running = false;
        for (const auto& name : lookup.slots) {
          auto it = s.slots.find(name);
          if (it == s.slots.end()) continue;
          auto& slot = it->second;
          if (lookup.error) {
            slot.outcome = error_reply(lookup.error->code, lookup.error->message);
            answer_waiters(slot, Answer::same_for_all);
            s.slots.erase(it);
            continue;
          }
          const persistence::IdempotencyOutcome* stored = nullptr;
          for (const auto& outcome : lookup.found) {
            if (outcome.endpoint == slot.tag.endpoint && outcome.key == slot.tag.key)
              stored = &outcome;
          }
          if (stored) {
            slot.request_hash = stored->request_hash;
            remember(self, name, slot, Reply{stored->status, stored->body, true, false});
            answer_waiters(slot, Answer::replays);
            continue;
          }
          // Not stored anywhere: run it once. Waiters with a different request are refused later.
          slot.phase = Phase::executing;
          auto me = caf::actor_cast<caf::actor>(self);
          auto execute = std::move(slot.execute);
          execute([me, name](Reply outcome) {
            caf::anon_send(me, executed_atom::value, name, std::move(outcome));
          });
        }
        run_lookups(self);
      },
      [=](executed_atom, const std::string& name, Reply& outcome) {
        auto& s = self->state;
        auto it = s.slots.find(name);
        if (it == s.slots.end()) return;
        auto& slot = it->second;
        if (outcome.durable) {
          remember(self, name, slot, std::move(outcome));
          answer_waiters(slot, Answer::original_then_replays);
          return;
        }
        slot.outcome = std::move(outcome);
        answer_waiters(slot, Answer::same_for_all);
        s.slots.erase(it);
      },
  };
}

}  // namespace wallet::actors
