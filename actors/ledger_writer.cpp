#include "actors/ledger_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<WriterState>*;
using persistence::ApplyStatus;

constexpr std::chrono::milliseconds kFirstResolveBackoff{50};
constexpr std::chrono::milliseconds kMaxResolveBackoff{2'000};

// Hold figures for /metrics, counted once the change is durable.
void count_holds(LedgerGauges& gauges, const persistence::LedgerMutation& mutation) {
  gauges.holds_created += mutation.new_holds.size();
  for (const auto& change : mutation.hold_changes) {
    if (change.status == "captured") ++gauges.holds_captured;
    if (change.status == "voided") ++gauges.holds_voided;
    if (change.status == "expired") ++gauges.holds_expired;
  }
}

// How a unit ended. `fenced`: refused by the ownership fence, nothing written; the client is told
// the partition moved (503, retry), which is a different answer from an outage's.
// `key_taken`: its idempotency key holds a stored outcome; nothing written, the gate answers.
// `read_back`: in doubt, keyed outcomes only: the gate reads each key back until it knows.
enum class Ending { committed, failed, fenced, over_reversed, aborted, key_taken, read_back };

void settle(Self self, WriteRequest& request, Ending ending) {
  const bool committed = ending == Ending::committed;
  for (auto& [account, balance] : request.participants) {
    self->send(account, settled_atom::value, committed, balance);
  }
  if (committed) {
    count_holds(*self->state.gauges, request.mutation);
    if (const auto& stored = request.mutation.outcome) {
      // The answer is the stored outcome's very bytes: encoded once, when the request was built,
      // and what every replay will send.
      request.on_commit.outcome = domain::Encoded{stored->status, stored->body};
      request.on_commit.durable = true;
    }
    request.reply(std::move(request.on_commit));
  } else if (ending == Ending::over_reversed) {
    ++self->state.stats.failed_mutations;
    Reply refusal = error_reply(domain::ErrorCode::already_reversed,
                                "a reversal racing this one reversed what was left of the "
                                "transaction; nothing changed");
    if (!request.mutation.outcome) return request.reply(std::move(refusal));
    // Decided (what was reversed is never un-reversed): the key's outcome, stored in a commit of
    // its own, so that every retry replays this very answer.
    auto outcome = *request.mutation.outcome;
    auto encoded = domain::encode(refusal.outcome);
    outcome.status = encoded.status;
    outcome.body = std::move(encoded.body);
    WriteRequest stored;
    stored.mutation.outcome = std::move(outcome);
    stored.on_commit = std::move(refusal);
    stored.reply = std::move(request.reply);
    self->send(self, submit_atom::value, std::move(stored));
  } else if (ending == Ending::aborted) {
    // Across owners: a hold's owner decided `abort` before this commit (the coordinator took
    // longer than holds wait); the transaction never applies, so a retry may run it anew.
    ++self->state.stats.failed_mutations;
    request.reply(error_reply(domain::ErrorCode::timeout,
                              "the transaction across owners took too long and was aborted; "
                              "nothing changed, retry"));
  } else if (ending == Ending::read_back) {
    Reply back = error_reply(domain::ErrorCode::unavailable,
                             "the commit of this request was in doubt; its key is read back");
    back.key_taken = true;
    back.read_back = true;
    request.reply(std::move(back));
  } else if (ending == Ending::key_taken) {
    ++self->state.stats.keys_taken;
    ++self->state.gauges->keys_taken;
#ifdef WALLET_PROTOCOL_BUG_KEY_TAKEN_AS_COMMITTED  // negative control (test-only build)
    request.on_commit.durable = true;  // the bug: answered as if its own outcome had committed
    return request.reply(std::move(request.on_commit));
#endif
    Reply taken = error_reply(domain::ErrorCode::unavailable,
                              "another request under this Idempotency-Key committed first; "
                              "nothing changed, retry");
    taken.key_taken = true;
    request.reply(std::move(taken));
  } else if (ending == Ending::fenced) {
    ++self->state.stats.failed_mutations;
    request.reply(error_reply(domain::ErrorCode::partition_moved,
                              "this account's partition moved to another instance while the "
                              "operation was being committed; nothing changed, retry"));
  } else {
    ++self->state.stats.failed_mutations;
    request.reply(error_reply(domain::ErrorCode::unavailable,
                              "the ledger could not commit this operation, retry later"));
  }
}

// The mutations of a lane's unit: its whole batch, or the one being retried alone.
std::vector<const persistence::LedgerMutation*> unit(const WriteLane& lane) {
  std::vector<const persistence::LedgerMutation*> ops;
  if (lane.isolating) {
    ops.push_back(&lane.writing[lane.isolate_index].mutation);
  } else {
    ops.reserve(lane.writing.size());
    for (const auto& request : lane.writing) ops.push_back(&request.mutation);
  }
  return ops;
}

void write_unit(Self self, size_t index) {
  auto& lane = self->state.lanes[index];
  lane.write_started = std::chrono::steady_clock::now();
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.backend->apply(index, unit(lane), [me, index](ApplyStatus status) {
    caf::anon_send(me, applied_atom::value, index, status);
  });
}

// Moves into the lane, in order, the waiting requests none of whose accounts is in flight on
// another lane, up to max_batch. A request passed over holds its accounts back for the rest of the
// pass, so no later request of an account overtakes an earlier one. With one lane nothing else is
// in flight when it fills: it takes the first max_batch requests, with no bookkeeping.
void fill(WriterState& s, size_t index) {
  auto& lane = s.lanes[index];
  if (s.lanes.size() == 1) {
    const size_t take = std::min(s.batch.size(), s.max_batch);
    auto split = s.batch.begin() + static_cast<std::ptrdiff_t>(take);
    lane.writing.assign(std::make_move_iterator(s.batch.begin()), std::make_move_iterator(split));
    s.batch.erase(s.batch.begin(), split);
    return;
  }
  std::unordered_set<caf::actor_id> passed_over;
  auto waits = [&](caf::actor_id account) {
#ifdef WALLET_PROTOCOL_BUG_SHARED_LANES  // negative control of the simulation (test-only build)
    return false;
#endif
    const auto flying = s.in_flight.find(account);
    return (flying != s.in_flight.end() && flying->second != index) ||
           passed_over.count(account) > 0;
  };
  size_t kept = 0;
  for (size_t i = 0; i < s.batch.size(); ++i) {
    auto& request = s.batch[i];
    const bool room = lane.writing.size() < s.max_batch;
    const bool free = room && std::none_of(request.participants.begin(), request.participants.end(),
                                           [&](const auto& p) { return waits(p.first.id()); });
    if (free) {
      for (const auto& p : request.participants) {
        if (s.in_flight.emplace(p.first.id(), index).second) lane.accounts.push_back(p.first.id());
      }
      lane.writing.push_back(std::move(request));
      continue;
    }
    if (room) {
      for (const auto& p : request.participants) passed_over.insert(p.first.id());
    }
    if (kept != i) s.batch[kept] = std::move(request);
    ++kept;
  }
  s.batch.resize(kept);
}

size_t lanes_busy(const WriterState& s) {
  return static_cast<size_t>(
      std::count_if(s.lanes.begin(), s.lanes.end(), [](const WriteLane& l) { return l.busy; }));
}

// Starts a write on every idle lane that finds requests it may take.
void flush(Self self) {
  auto& s = self->state;
  s.flush_queued = false;
  for (size_t index = 0; index < s.lanes.size() && !s.batch.empty(); ++index) {
    auto& lane = s.lanes[index];
    if (lane.busy) continue;
    fill(s, index);
    if (lane.writing.empty()) continue;  // everything waiting is in flight elsewhere
    lane.busy = true;
    lane.isolating = false;
    s.stats.mutations += lane.writing.size();
    s.stats.largest_batch = std::max(s.stats.largest_batch, lane.writing.size());
    s.stats.most_lanes_busy = std::max(s.stats.most_lanes_busy, lanes_busy(s));
    write_unit(self, index);
  }
}

// The unit's outcome is known: answer it, then go on with the next unit or free the lane (its
// accounts may be taken again) and flush what waits.
// A fenced unit ends the isolation too: every later mutation carries the same stale claim.
void finish_unit(Self self, size_t index, Ending ending) {
  auto& s = self->state;
  auto& lane = s.lanes[index];
  lane.resolve_backoff = std::chrono::milliseconds{0};
  if (lane.isolating) {
    settle(self, lane.writing[lane.isolate_index], ending);
    if (++lane.isolate_index < lane.writing.size()) {
      if (ending != Ending::fenced) {
        write_unit(self, index);
        return;
      }
      for (; lane.isolate_index < lane.writing.size(); ++lane.isolate_index) {
        settle(self, lane.writing[lane.isolate_index], ending);
      }
    }
  } else {
    for (auto& request : lane.writing) settle(self, request, ending);
  }
  for (caf::actor_id account : lane.accounts) s.in_flight.erase(account);
  lane.accounts.clear();
  lane.writing.clear();
  lane.busy = false;
  lane.isolating = false;
  flush(self);
}

// How surely a mutation's trace in Postgres is its own: a row, a new hold, a record or a change of
// rules is written by this mutation only. An outcome may equal, byte for byte, one that another
// request stored under the key earlier (the same refusal twice: the key now runs without a lookup,
// and only the commit finds it taken), so only a live one tells, and a row or a record is surer. A
// hold's closing may have been made by someone else (another instance voiding the hold of a
// transaction it settled), so it is the last resort.
constexpr int kOutcomeRank = 2;
int probe_rank(const persistence::LedgerMutation& m) {
  if (!m.entries.empty()) return 0;
  if (!m.new_holds.empty() || !m.transactions.empty() || !m.account_changes.empty()) return 1;
  if (m.outcome) return kOutcomeRank;
  return 3;
}

// The mutation whose trace tells whether the lane's unit in doubt committed: a unit commits whole,
// so any of its mutations tells, the one whose trace is surest best.
const persistence::LedgerMutation* surest_probe(const WriteLane& lane) {
  const auto ops = unit(lane);
  const persistence::LedgerMutation* probe = ops.front();
  for (const auto* m : ops) {
    if (probe_rank(*m) < probe_rank(*probe)) probe = m;
  }
  return probe;
}

// A unit in doubt with no row, hold, record or change of rules to tell by, whose every mutation
// is keyed (an outcome, and at most a hold's closing): each request's gate can read its key back.
// (A closing without a key, an expiry or an unkeyed void, is still told by the outcome probe.)
bool read_back_by_keys(const WriteLane& lane) {
  const auto ops = unit(lane);
  return std::all_of(ops.begin(), ops.end(), [](const persistence::LedgerMutation* m) {
    return m->outcome && probe_rank(*m) == kOutcomeRank;
  });
}

void ask_whether_committed(Self self, size_t index) {
  const persistence::LedgerMutation* probe = surest_probe(self->state.lanes[index]);
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.backend->was_committed(index, *probe, [me, index](domain::Result<bool> known) {
    caf::anon_send(me, resolved_atom::value, index, std::move(known));
  });
}

void on_applied(Self self, size_t index, ApplyStatus status) {
  auto& s = self->state;
  auto& lane = s.lanes[index];
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - lane.write_started);
  ++s.stats.batches;
  s.stats.commit_micros_total += static_cast<uint64_t>(elapsed.count());
  const size_t size = lane.isolating ? 1 : lane.writing.size();
  if (s.on_commit) s.on_commit(elapsed, size);
  switch (status) {
    case ApplyStatus::committed:
      finish_unit(self, index, Ending::committed);
      return;
    case ApplyStatus::rejected:
    case ApplyStatus::over_reversed:
    case ApplyStatus::aborted:
    case ApplyStatus::key_taken:
      if (!lane.isolating && lane.writing.size() > 1) {
        // Isolate: commit each mutation alone, in order. A mutation built on a refused one is
        // refused too (its old balance no longer matches), which is what keeps the chains intact.
        lane.isolating = true;
        lane.isolate_index = 0;
        write_unit(self, index);
        return;
      }
      finish_unit(self, index,
                  status == ApplyStatus::over_reversed ? Ending::over_reversed
                  : status == ApplyStatus::aborted     ? Ending::aborted
                  : status == ApplyStatus::key_taken   ? Ending::key_taken
                                                       : Ending::failed);
      return;
    case ApplyStatus::unavailable:
      finish_unit(self, index, Ending::failed);
      return;
    case ApplyStatus::fenced:
      // Another instance took a partition this one claims: nothing was written, and no retry
      // here can commit it. Each client hears 503 partition_moved, each account reloads.
      ++s.stats.fenced;
      ++s.gauges->commits_fenced;
      spdlog::warn("event=ledger_batch_fenced size={}", size);
      finish_unit(self, index, Ending::fenced);
      return;
    case ApplyStatus::in_doubt:
      // Neither the clients nor the accounts may hear anything before we know; the lane keeps
      // its accounts until then.
      ++s.stats.in_doubt;
      ask_whether_committed(self, index);
      return;
  }
}

}  // namespace

caf::behavior ledger_writer(caf::stateful_actor<WriterState>* self,
                            std::shared_ptr<persistence::LedgerBackend> backend, size_t max_batch,
                            std::function<void(std::chrono::microseconds, size_t)> observe,
                            std::shared_ptr<LedgerGauges> gauges) {
  self->state.gauges = std::move(gauges);
  self->state.backend = backend;
  self->state.max_batch = std::max<size_t>(1, max_batch);
  self->state.lanes.resize(backend->write_lanes());  // at least one
  self->state.on_commit = std::move(observe);
  return {
      [=](submit_atom, WriteRequest& request) {
        auto& s = self->state;
        s.batch.push_back(std::move(request));
        if (lanes_busy(s) == s.lanes.size()) return;  // the next batch forms meanwhile
        if (!s.flush_queued) {
          s.flush_queued = true;
          self->send(self, flush_atom::value);
        }
      },
      [=](flush_atom) {
        flush(self);
        self->state.gauges->writer_mailbox = self->mailbox().size();
      },
      [=](applied_atom, size_t index, ApplyStatus status) { on_applied(self, index, status); },
      [=](resolved_atom, size_t index, domain::Result<bool>& known) {
        auto& lane = self->state.lanes[index];
        if (known) {
          spdlog::info("event=ledger_commit_resolved committed={}", known.value());
          if (read_back_by_keys(lane)) {
            // An equal outcome found may be another request's, stored earlier under the key, whose
            // age is not ours, and one not found says nothing of the others. The backend of the
            // commit is gone now, so each key's stored outcome is final: the gate reads it back
            // (found: replayed with its true age; none: nothing of it was written, retry).
            return finish_unit(self, index, Ending::read_back);
          }
          finish_unit(self, index, known.value() ? Ending::committed : Ending::failed);
          return;
        }
        // Still unknown (the database is unreachable): ask again, backing off.
        lane.resolve_backoff =
            std::min(kMaxResolveBackoff, std::max(kFirstResolveBackoff, lane.resolve_backoff * 2));
        spdlog::warn("event=ledger_commit_still_in_doubt retry_in_ms={}",
                     lane.resolve_backoff.count());
        self->delayed_send(self, lane.resolve_backoff, resolved_atom::value, index);
      },
      [=](resolved_atom, size_t index) { ask_whether_committed(self, index); },
      [=](inspect_atom, const WriterInspect& inspect) {
        auto stats = self->state.stats;
        stats.lanes = self->state.lanes.size();
        stats.lanes_busy = lanes_busy(self->state);
        inspect.reply(stats, self->mailbox().size());
      },
  };
}

}  // namespace wallet::actors
