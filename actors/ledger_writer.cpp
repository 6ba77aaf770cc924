#include "actors/ledger_writer.hpp"

#include <spdlog/spdlog.h>

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<WriterState>*;
using persistence::ApplyStatus;

constexpr std::chrono::milliseconds kFirstResolveBackoff{50};
constexpr std::chrono::milliseconds kMaxResolveBackoff{2'000};

// Release 2: hold figures for /metrics, counted once the change is durable.
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
enum class Ending { committed, failed, fenced };

void settle(Self self, WriteRequest& request, Ending ending) {
  const bool committed = ending == Ending::committed;
  for (auto& [account, balance] : request.participants) {
    self->send(account, settled_atom::value, committed, balance);
  }
  if (committed) {
    count_holds(*self->state.gauges, request.mutation);  // release 2
    request.on_commit.durable = request.mutation.outcome.has_value();
    request.reply(std::move(request.on_commit));
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

// The mutations of the unit being written: the whole batch, or the one being retried alone.
std::vector<const persistence::LedgerMutation*> unit(Self self) {
  auto& s = self->state;
  std::vector<const persistence::LedgerMutation*> ops;
  if (s.isolating) {
    ops.push_back(&s.writing[s.isolate_index].mutation);
  } else {
    ops.reserve(s.writing.size());
    for (const auto& request : s.writing) ops.push_back(&request.mutation);
  }
  return ops;
}

void write_unit(Self self) {
  auto& s = self->state;
  s.write_started = std::chrono::steady_clock::now();
  auto me = caf::actor_cast<caf::actor>(self);
  s.backend->apply(unit(self),
                   [me](ApplyStatus status) { caf::anon_send(me, applied_atom::value, status); });
}

void flush(Self self) {
  auto& s = self->state;
  s.flush_queued = false;
  if (s.busy || s.batch.empty()) return;
  if (s.batch.size() <= s.max_batch) {
    s.writing.swap(s.batch);
  } else {
    auto split = s.batch.begin() + static_cast<std::ptrdiff_t>(s.max_batch);
    s.writing.assign(std::make_move_iterator(s.batch.begin()), std::make_move_iterator(split));
    s.batch.erase(s.batch.begin(), split);
  }
  s.busy = true;
  s.isolating = false;
  s.stats.mutations += s.writing.size();
  s.stats.largest_batch = std::max(s.stats.largest_batch, s.writing.size());
  write_unit(self);
}

// The unit's outcome is known: answer it, then go on with the next unit or the next batch.
// A fenced unit ends the isolation too: every later mutation carries the same stale claim.
void finish_unit(Self self, Ending ending) {
  auto& s = self->state;
  s.resolve_backoff = std::chrono::milliseconds{0};
  if (s.isolating) {
    settle(self, s.writing[s.isolate_index], ending);
    if (++s.isolate_index < s.writing.size()) {
      if (ending != Ending::fenced) {
        write_unit(self);
        return;
      }
      for (; s.isolate_index < s.writing.size(); ++s.isolate_index) {
        settle(self, s.writing[s.isolate_index], ending);
      }
    }
  } else {
    for (auto& request : s.writing) settle(self, request, ending);
  }
  s.writing.clear();
  s.busy = false;
  s.isolating = false;
  flush(self);
}

void ask_whether_committed(Self self) {
  auto& s = self->state;
  const auto& probe =
      s.isolating ? s.writing[s.isolate_index].mutation : s.writing.front().mutation;
  auto me = caf::actor_cast<caf::actor>(self);
  s.backend->was_committed(probe, [me](domain::Result<bool> known) {
    caf::anon_send(me, resolved_atom::value, std::move(known));
  });
}

void on_applied(Self self, ApplyStatus status) {
  auto& s = self->state;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - s.write_started);
  ++s.stats.batches;
  s.stats.commit_micros_total += static_cast<uint64_t>(elapsed.count());
  const size_t size = s.isolating ? 1 : s.writing.size();
  if (s.on_commit) s.on_commit(elapsed, size);
  switch (status) {
    case ApplyStatus::committed:
      finish_unit(self, Ending::committed);
      return;
    case ApplyStatus::rejected:
      if (!s.isolating && s.writing.size() > 1) {
        // Isolate: commit each mutation alone, in order. A mutation built on a refused one is
        // refused too (its old balance no longer matches), which is what keeps the chains intact.
        s.isolating = true;
        s.isolate_index = 0;
        write_unit(self);
        return;
      }
      finish_unit(self, Ending::failed);
      return;
    case ApplyStatus::unavailable:
      finish_unit(self, Ending::failed);
      return;
    case ApplyStatus::fenced:
      // Another instance took a partition this one claims: nothing was written, and no retry
      // here can commit it. Each client hears 503 partition_moved, each account reloads.
      ++s.stats.fenced;
      ++s.gauges->commits_fenced;
      spdlog::warn("event=ledger_batch_fenced size={}", size);
      finish_unit(self, Ending::fenced);
      return;
    case ApplyStatus::in_doubt:
      // Neither the clients nor the accounts may hear anything before we know.
      ++s.stats.in_doubt;
      ask_whether_committed(self);
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
  self->state.max_batch = max_batch;
  self->state.on_commit = std::move(observe);
  return {
      [=](submit_atom, WriteRequest& request) {
        auto& s = self->state;
        s.batch.push_back(std::move(request));
        if (s.busy) return;  // the next batch forms while this one is written
        if (s.batch.size() >= s.max_batch) {
          flush(self);
        } else if (!s.flush_queued) {
          s.flush_queued = true;
          self->send(self, flush_atom::value);
        }
      },
      [=](flush_atom) {
        flush(self);
        self->state.gauges->writer_mailbox = self->mailbox().size();
      },
      [=](applied_atom, ApplyStatus status) { on_applied(self, status); },
      [=](resolved_atom, domain::Result<bool>& known) {
        auto& s = self->state;
        if (known) {
          spdlog::info("event=ledger_commit_resolved committed={}", known.value());
          finish_unit(self, known.value() ? Ending::committed : Ending::failed);
          return;
        }
        // Still unknown (the database is unreachable): ask again, backing off.
        s.resolve_backoff =
            std::min(kMaxResolveBackoff, std::max(kFirstResolveBackoff, s.resolve_backoff * 2));
        spdlog::warn("event=ledger_commit_still_in_doubt retry_in_ms={}",
                     s.resolve_backoff.count());
        self->delayed_send(self, s.resolve_backoff, resolved_atom::value);
      },
      [=](resolved_atom) { ask_whether_committed(self); },
      [=](inspect_atom, const WriterInspect& inspect) {
        inspect.reply(self->state.stats, self->mailbox().size());
      },
  };
}

}  // namespace wallet::actors
