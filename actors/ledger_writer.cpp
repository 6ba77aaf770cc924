#include "actors/ledger_writer.hpp"

#include <spdlog/spdlog.h>

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<WriterState>*;

// Release 2: hold figures for /metrics, counted once the change is durable.
void count_holds(LedgerGauges& gauges, const persistence::LedgerMutation& mutation) {
  gauges.holds_created += mutation.new_holds.size();
  for (const auto& change : mutation.hold_changes) {
    if (change.status == "captured") ++gauges.holds_captured;
    if (change.status == "voided") ++gauges.holds_voided;
    if (change.status == "expired") ++gauges.holds_expired;
  }
}

void settle(Self self, WriteRequest& request, bool committed) {
  for (auto& [account, balance] : request.participants) {
    self->send(account, settled_atom::value, committed, balance);
  }
  if (committed) {
    count_holds(*self->state.gauges, request.mutation);  // release 2
    request.on_commit.durable = request.mutation.outcome.has_value();
    request.reply(std::move(request.on_commit));
  } else {
    request.reply(error_reply(domain::ErrorCode::unavailable,
                              "the ledger could not commit this operation, retry later"));
  }
}

persistence::ApplyStatus write_batch(Self self, const std::vector<const persistence::LedgerMutation*>& ops) {
  auto& s = self->state;
  const auto started = std::chrono::steady_clock::now();
  auto status = s.store->apply(ops);
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  ++s.stats.batches;
  s.stats.commit_micros_total += static_cast<uint64_t>(elapsed.count());
  if (s.on_commit) s.on_commit(elapsed, ops.size());
  return status;
}

void flush(Self self) {
  auto& s = self->state;
  s.flush_queued = false;
  if (s.batch.empty()) return;
  std::vector<WriteRequest> batch;
  batch.swap(s.batch);
  std::vector<const persistence::LedgerMutation*> ops;
  ops.reserve(batch.size());
  for (const auto& request : batch) ops.push_back(&request.mutation);
  s.stats.mutations += batch.size();
  s.stats.largest_batch = std::max(s.stats.largest_batch, batch.size());

  auto status = write_batch(self, ops);
  if (status == persistence::ApplyStatus::rejected && batch.size() > 1) {
    // Isolate: commit each mutation alone, in order. A mutation built on a refused one is refused
    // too (its old balance no longer matches), which is what keeps the chains consistent.
    for (auto& request : batch) {
      std::vector<const persistence::LedgerMutation*> alone{&request.mutation};
      bool committed = write_batch(self, alone) == persistence::ApplyStatus::committed;
      if (!committed) ++s.stats.failed_mutations;
      settle(self, request, committed);
    }
    return;
  }
  const bool committed = status == persistence::ApplyStatus::committed;
  if (!committed) s.stats.failed_mutations += batch.size();
  for (auto& request : batch) settle(self, request, committed);
}

}  // namespace

caf::behavior ledger_writer(caf::stateful_actor<WriterState>* self, std::string database_url,
                            size_t max_batch,
                            std::function<void(std::chrono::microseconds, size_t)> observe,
                            std::shared_ptr<LedgerGauges> gauges) {
  self->state.gauges = std::move(gauges);
  self->state.store = std::make_unique<persistence::LedgerStore>(std::move(database_url));
  self->state.max_batch = max_batch;
  self->state.on_commit = std::move(observe);
  return {
      [=](submit_atom, WriteRequest& request) {
        auto& s = self->state;
        s.batch.push_back(std::move(request));
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
      [=](inspect_atom, const WriterInspect& inspect) {
        inspect.reply(self->state.stats, self->mailbox().size());
      },
  };
}

}  // namespace wallet::actors
