#include "actors/idempotency_gate.hpp"

#include <algorithm>

#include "actors/ledger_outcomes.hpp"

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

void remember(Self self, const std::string& name, GateSlot& slot, Reply outcome,
              caf::actor_clock::time_point expires_at) {
  auto& s = self->state;
  slot.phase = Phase::done;
  slot.expires_at = expires_at;
  slot.outcome = std::move(outcome);
  slot.execute = nullptr;
  s.done_order.push_back(name);
  slot.lru = std::prev(s.done_order.end());
  while (s.done_order.size() > s.capacity) {
    s.slots.erase(s.done_order.front());
    s.done_order.pop_front();
  }
}

// At most this many lookups at once (each a pool thread), each of at most kMaxLookupBatch keys: a
// slow lookup does not hold back the keys that arrive after it.
constexpr size_t kMaxLookupsRunning = 2;
// A key read back after a commit in doubt whose lookup failed is asked again after this long.
constexpr std::chrono::milliseconds kReadBackRetry{200};
constexpr size_t kMaxLookupBatch = 512;

void run_lookups(Self self) {
  auto& s = self->state;
  while (s.lookups_running < kMaxLookupsRunning && !s.lookup_queue.empty()) {
    StoredLookup lookup;
    std::vector<std::pair<std::string, std::string>> keys;
    const size_t n = std::min(s.lookup_queue.size(), kMaxLookupBatch);
    for (size_t i = 0; i < n; ++i) {
      auto it = s.slots.find(s.lookup_queue[i]);
      if (it == s.slots.end() || it->second.phase != Phase::looking_up) continue;  // timed out
      lookup.slots.emplace_back(s.lookup_queue[i], it->second.id);
      keys.emplace_back(it->second.tag.endpoint, it->second.tag.key);
    }
    s.lookup_queue.erase(s.lookup_queue.begin(), s.lookup_queue.begin() + static_cast<long>(n));
    if (keys.empty()) continue;
    ++s.lookups_running;
    lookup.sent_at = self->clock().now();
    auto me = caf::actor_cast<caf::actor>(self);
    using Found = std::vector<persistence::IdempotencyOutcome>;
    s.backend->find_outcomes(std::move(keys),
                             [me, lookup = std::move(lookup)](domain::Result<Found> found) mutable {
                               if (found) {
                                 lookup.found.swap(found.value());
                               } else {
                                 lookup.error = found.error();
                               }
                               caf::anon_send(me, lookup_atom::value, std::move(lookup));
                             });
  }
}

void arm_timer(Self self) {
  auto& s = self->state;
  if (s.deadlines.empty() || s.deadlines.begin()->first >= s.timer_at) return;
  s.timer_at = s.deadlines.begin()->first;
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(s.timer_at - self->clock().now()) +
      std::chrono::milliseconds(1);
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), timeout_atom::value,
                     ++s.timer_generation);
}

// The gate keeps this waiter's deadline from now on (its slot looks its key up).
void keep_deadline(Self self, const std::string& name, GateWaiter& waiter) {
  if (waiter.deadline == kNoDeadline || waiter.timed) return;
  waiter.timer_entry = self->state.deadlines.emplace(waiter.deadline, name);
  waiter.timed = true;
  arm_timer(self);
}

// Whether the gate keeps this waiter's deadline (answers it `timeout` when it passes): a request
// that differs from the slot's never runs under it, so always; a duplicate only while its slot
// looks its key up and nothing of it can have committed (not `in_doubt`).
bool deadline_kept(const GateSlot& slot, const GateWaiter& waiter) {
  if (waiter.request_hash != slot.request_hash) return true;
  return slot.phase == Phase::looking_up && !slot.in_doubt;
}

void add_waiter(Self self, const std::string& name, GateSlot& slot, GateWaiter waiter) {
  if (deadline_kept(slot, waiter)) keep_deadline(self, name, waiter);
  slot.waiters.push_back(std::move(waiter));
}

// The slot's lookup is answered: its waiters' deadlines are no longer the gate's to keep (from
// here on the operation's own deadline, or its commit, answers them).
void forget_deadlines(GateState& s, GateSlot& slot) {
  for (auto& waiter : slot.waiters) {
    if (waiter.timed) s.deadlines.erase(waiter.timer_entry);
    waiter.timed = false;
  }
}

// Answers `timeout` every waiter whose deadline passed while its slot was still looking up; a slot
// left without waiters is dropped (its lookup's answer will find no slot of its id).
void expire_waiters(Self self, uint64_t generation) {
  auto& s = self->state;
  if (generation != s.timer_generation) return;  // superseded by an earlier deadline's timer
  s.timer_at = kNoDeadline;
  const auto now = self->clock().now();
  while (!s.deadlines.empty() && s.deadlines.begin()->first < now) {
    auto it = s.slots.find(s.deadlines.begin()->second);
    if (it == s.slots.end()) {
      s.deadlines.erase(s.deadlines.begin());  // not expected: entries leave with their waiters
      continue;
    }
#ifndef WALLET_PROTOCOL_BUG_LOOKUP_WITHOUT_DEADLINE  // negative control (test-only build)
    auto& waiters = it->second.waiters;
    // Only waiters whose deadline the gate keeps (a duplicate of a request under way is answered
    // by its commit, however late).
    auto late = std::stable_partition(waiters.begin(), waiters.end(), [now](const GateWaiter& w) {
      return !w.timed || w.deadline >= now;
    });
    for (auto w = late; w != waiters.end(); ++w) {
      if (w->timed) s.deadlines.erase(w->timer_entry);
      w->reply(timeout_reply());
    }
    waiters.erase(late, waiters.end());
    if (waiters.empty()) s.slots.erase(it);
#else
    forget_deadlines(s, it->second);  // the bug: nobody is answered, the lookup is waited for
#endif
  }
  arm_timer(self);
}

void lookup(Self self, const std::string& name) {
  self->state.lookup_queue.push_back(name);
  run_lookups(self);
}

// Runs the slot's operation once. Waiters with a different request are refused later.
void execute(Self self, const std::string& name, GateSlot& slot) {
  slot.phase = Phase::executing;
  slot.started_at = self->clock().now();
  auto me = caf::actor_cast<caf::actor>(self);
  auto run = std::move(slot.execute);
  slot.execute = nullptr;
  run([me, name, id = slot.id](Reply outcome) {
    caf::anon_send(me, executed_atom::value, name, id, std::move(outcome));
  });
}

enum class Answer { original_then_replays, replays, same_for_all };

// Answers every waiter of a finished slot; those whose request differs get 422.
void answer_waiters(GateSlot& slot, Answer answer) {
  auto waiters = std::move(slot.waiters);
  slot.waiters.clear();
  bool original = answer == Answer::original_then_replays;
  for (auto& waiter : waiters) {
    if (waiter.request_hash != slot.request_hash) {
      waiter.reply(mismatch());
    } else if (original || answer == Answer::same_for_all) {
      original = false;
      waiter.reply(slot.outcome);
    } else {
      waiter.reply(replay_of(slot.outcome));
    }
  }
}

// The stored outcome of this slot's key among those a lookup found, or null.
const persistence::IdempotencyOutcome* stored_outcome(const StoredLookup& lookup,
                                                      const GateSlot& slot) {
  for (const auto& outcome : lookup.found) {
    if (outcome.endpoint == slot.tag.endpoint && outcome.key == slot.tag.key) return &outcome;
  }
  return nullptr;
}

// When a looked-up outcome leaves its retention: its age counts from before the lookup was sent
// (Postgres read it later than that), so this never outlives the row in Postgres.
caf::actor_clock::time_point looked_up_expiry(const GateState& s, const StoredLookup& lookup,
                                              const persistence::IdempotencyOutcome& stored) {
#ifdef WALLET_PROTOCOL_BUG_RETENTION_FROM_LEARNING  // negative control (test-only build)
  return lookup.sent_at + s.ttl;
#endif
  return lookup.sent_at + s.ttl - std::chrono::milliseconds(stored.age_ms);
}

// Waiters that arrived once the stored outcome had left its retention may not be answered with it
// (their key names a new operation). They joined an execution whose commit found the key still
// taken, so nothing of theirs ran: they are told to retry, which runs anew.
void refuse_late_waiters(GateSlot& slot, caf::actor_clock::time_point expires_at) {
  auto late =
      std::stable_partition(slot.waiters.begin(), slot.waiters.end(),
                            [expires_at](const GateWaiter& w) { return w.arrived < expires_at; });
  for (auto w = late; w != slot.waiters.end(); ++w) {
    w->reply(error_reply(domain::ErrorCode::unavailable,
                         "this Idempotency-Key's earlier outcome expired while it was read; "
                         "nothing changed, retry"));
  }
  slot.waiters.erase(late, slot.waiters.end());
}

void on_lookup(Self self, StoredLookup& lookup) {
  auto& s = self->state;
  --s.lookups_running;
  for (const auto& [name, id] : lookup.slots) {
    auto it = s.slots.find(name);
    if (it == s.slots.end() || it->second.id != id || it->second.phase != Phase::looking_up) {
      continue;  // its waiters timed out meanwhile
    }
    auto& slot = it->second;
    forget_deadlines(s, slot);
#ifndef WALLET_PROTOCOL_BUG_READ_BACK_GIVES_UP  // negative control (test-only build)
    if (lookup.error && slot.in_doubt) {
      // Its own commit may have happened: ask again shortly, answer none of it meanwhile.
      for (auto& waiter : slot.waiters) {
        if (deadline_kept(slot, waiter)) keep_deadline(self, name, waiter);
      }
      self->delayed_send(self, kReadBackRetry, lookup_atom::value, name, id);
      continue;
    }
#endif
    if (lookup.error) {
      slot.outcome = error_reply(lookup.error->code, lookup.error->message);
      answer_waiters(slot, Answer::same_for_all);
      s.slots.erase(it);
      continue;
    }
    if (const auto* stored = stored_outcome(lookup, slot)) {
      const auto expires_at = looked_up_expiry(s, lookup, *stored);
      refuse_late_waiters(slot, expires_at);
      slot.request_hash = stored->request_hash;
      remember(self, name, slot, Reply{domain::Encoded{stored->status, stored->body}, true, false},
               expires_at);
      answer_waiters(slot, Answer::replays);
      continue;
    }
    // Nothing holds the key: the outcome that took it expired before it could be read, or this
    // request's own commit, in doubt, did not happen. Nothing of it was written; a retry runs anew.
    slot.outcome = error_reply(domain::ErrorCode::unavailable,
                               "nothing is stored under this Idempotency-Key; nothing changed, "
                               "retry");
    answer_waiters(slot, Answer::same_for_all);
    s.slots.erase(it);
  }
  run_lookups(self);
}

void on_call(Self self, IdempotentCall& call) {
  auto& s = self->state;
  const std::string name = slot_name(call.tag);
  auto it = s.slots.find(name);
  if (it != s.slots.end() && it->second.phase == Phase::done &&
      self->clock().now() >= it->second.expires_at) {
    // Expired: a key reused after its retention is a new operation.
    s.done_order.erase(it->second.lru);
    s.slots.erase(it);
    it = s.slots.end();
  }
  GateWaiter waiter;
  waiter.request_hash = call.tag.request_hash;
  waiter.reply = std::move(call.reply);
  waiter.deadline = call.deadline;
  waiter.arrived = self->clock().now();
  if (it == s.slots.end() && call.deadline < self->clock().now()) {
#ifndef WALLET_PROTOCOL_BUG_LOOKUP_WITHOUT_DEADLINE  // negative control (test-only build)
    // Its deadline passed on the way here: nothing was looked up or executed.
    waiter.reply(timeout_reply());
    return;
#endif
  }
  if (it == s.slots.end()) {
    GateSlot slot;
    slot.tag = call.tag;
    slot.id = s.next_slot_id++;
    slot.request_hash = call.tag.request_hash;
    slot.execute = std::move(call.execute);
    auto& added = s.slots.emplace(name, std::move(slot)).first->second;
    add_waiter(self, name, added, std::move(waiter));
    // Not remembered here: run it now. Its commit refuses it if the key holds a stored outcome.
    execute(self, name, added);
    return;
  }
  auto& slot = it->second;
  if (slot.phase == Phase::done) {
    s.done_order.splice(s.done_order.end(), s.done_order, slot.lru);
    waiter.reply(call.tag.request_hash == slot.request_hash ? replay_of(slot.outcome) : mismatch());
  } else {
    // Looking up: the stored hash is not known yet, so the check happens with the answer.
    // Executing: the outcome comes with the original's (bounded by its own deadline until the
    // writer has it, then by the commit), and so does the check: its commit may find the key
    // taken by a stored outcome of another request, which this one may equal.
    add_waiter(self, name, slot, std::move(waiter));
  }
}

// A failover (another database server): outcomes remembered here may be missing on the new primary,
// which would then run their keys anew; forget them, so that each key is looked up there again.
void forget_outcomes(Self self) {
  auto& s = self->state;
  for (const auto& name : s.done_order) s.slots.erase(name);
  s.done_order.clear();
}

void on_executed(Self self, const std::string& name, uint64_t id, Reply& outcome) {
  auto& s = self->state;
  auto it = s.slots.find(name);
  if (it == s.slots.end() || it->second.id != id) return;
  auto& slot = it->second;
  forget_deadlines(s, slot);  // those of waiters that differ; kept again below if it goes on
  if (outcome.key_taken) {
    // Its commit found the key holding a stored outcome (that outcome is the answer, or a 422 for
    // a request that differs from it), or was in doubt (`read_back`): the key is read now. Until
    // then the gate keeps the deadlines of waiters none of whose request can have committed.
    slot.phase = Phase::looking_up;
    slot.in_doubt = outcome.read_back;
    for (auto& waiter : slot.waiters) {
      if (deadline_kept(slot, waiter)) keep_deadline(self, name, waiter);
    }
    lookup(self, name);
    return;
  }
  if (outcome.durable) {
    remember(self, name, slot, std::move(outcome), slot.started_at + s.ttl);
    answer_waiters(slot, Answer::original_then_replays);
    return;
  }
  slot.outcome = std::move(outcome);
  answer_waiters(slot, Answer::same_for_all);
  s.slots.erase(it);
}

}  // namespace

caf::behavior idempotency_gate(caf::stateful_actor<GateState>* self,
                               std::shared_ptr<persistence::LedgerBackend> backend, size_t capacity,
                               std::chrono::seconds ttl) {
  self->state.backend = backend;
  self->state.capacity = capacity;
  self->state.ttl = ttl;
  return {
      [=](call_atom, IdempotentCall& call) { on_call(self, call); },
      [=](lookup_atom, StoredLookup& lookup) { on_lookup(self, lookup); },
      [=](lookup_atom, const std::string& name, uint64_t id) {
        auto it = self->state.slots.find(name);
        if (it != self->state.slots.end() && it->second.id == id) lookup(self, name);
      },
      [=](executed_atom, const std::string& name, uint64_t id, Reply& outcome) {
        on_executed(self, name, id, outcome);
      },
      [=](timeout_atom, uint64_t generation) { expire_waiters(self, generation); },
      [=](new_server_atom) { forget_outcomes(self); },
  };
}

}  // namespace wallet::actors
