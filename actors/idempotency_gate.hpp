// IdempotencyGate: makes a keyed request execute at most once per (endpoint, key), in this process
// and across restarts. The first request of a key that the gate does not remember executes at once,
// without asking Postgres first (issue 28): its commit stores the outcome under the key, and a key
// that already holds a live outcome (stored by an earlier run, or by another instance) refuses that
// commit (`key_taken`, nothing written). Only then is the key looked up, and its stored outcome
// replayed. Duplicates that arrive meanwhile wait for that one outcome. Outcomes that were
// committed with the operation are kept (LRU-bounded) and replayed with the identical status and
// body; a different request under a used key is refused with 422. Postgres lookups are batched (one
// query for all keys that arrived while the previous query ran). Outcomes that changed nothing
// (outages, unknown users) are not kept, so a retry runs.
#pragma once

#include <caf/all.hpp>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"

namespace wallet::actors {

struct GateWaiter {
  std::string request_hash;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;       // only while the slot looks its key up
  caf::actor_clock::time_point arrived;  // when it reached the gate
  // Its entry in GateState::deadlines while the slot looks its key up (`timed`).
  std::multimap<Deadline, std::string>::iterator timer_entry;
  bool timed = false;
};

struct GateSlot {
  IdempotencyTag tag;
  uint64_t id = 0;  // unique per slot: a lookup answers the slot it was sent for, not a successor
  // A slot executes first; it looks its key up only when its commit found the key taken (the
  // stored outcome is then the answer; none found: it expired meanwhile, and nothing ran).
  enum class Phase { executing, looking_up, done } phase = Phase::executing;
  // Looking up a key whose own commit was in doubt (it may have committed): no waiter is answered
  // a failure or a timeout; a failed lookup is asked again until the key is known.
  bool in_doubt = false;
  std::string request_hash;
  Reply outcome;
  std::vector<GateWaiter> waiters;
  std::function<void(ReplyFn)> execute;
  std::list<std::string>::iterator lru;     // valid when done
  caf::actor_clock::time_point started_at;  // when the operation started (executing)
  caf::actor_clock::time_point expires_at;  // done: replayed until then, a new operation after
};

struct GateState {
  std::shared_ptr<persistence::LedgerBackend> backend;
  std::chrono::seconds ttl{24 * 3600};  // an outcome older than this is forgotten
  std::unordered_map<std::string, GateSlot> slots;
  std::list<std::string> done_order;  // least recently used first
  // Lookups are batched: while queries run, new keys queue up and go together in the next.
  std::vector<std::string> lookup_queue;
  size_t lookups_running = 0;
  uint64_t next_slot_id = 1;
  // The deadlines of waiters of slots looking up (with the slot's name): one timer, armed for the
  // earliest, answers those whose deadline passed.
  // Only waiters still looking up have an entry: a lookup's answer removes its slot's entries, so
  // with fast lookups the map stays nearly empty and no timer fires for requests long answered.
  std::multimap<Deadline, std::string> deadlines;
  // When the timer under way fires (kNoDeadline: none) and its generation: calls reach the gate in
  // no particular order of their deadlines, so a new earliest one arms a timer of its own, and the
  // one it supersedes is ignored when it fires.
  Deadline timer_at = kNoDeadline;
  uint64_t timer_generation = 0;
  size_t capacity = 100'000;
  static inline const char* name = "idempotency_gate";
};

caf::behavior idempotency_gate(caf::stateful_actor<GateState>* self,
                               std::shared_ptr<persistence::LedgerBackend> backend, size_t capacity,
                               std::chrono::seconds ttl);

}  // namespace wallet::actors
