// LedgerWriter: the group-commit writer. A detached actor (its own thread, so the blocking libpqxx
// call never runs on CAF's cooperative scheduler) that owns one connection. Submissions are
// appended to a batch; a flush message queued behind them commits everything that arrived in the
// meantime in one transaction, so batch size follows load and a lone request is never delayed.
// Clients are answered only after their batch is durable. A batch refused by Postgres is retried
// one mutation at a time, so one bad mutation fails alone and its batch-mates still commit.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_store.hpp"

namespace wallet::actors {

struct WriterStats {
  uint64_t batches = 0;
  uint64_t mutations = 0;
  uint64_t failed_mutations = 0;
  uint64_t commit_micros_total = 0;
  size_t largest_batch = 0;
};

struct WriterInspect {
  std::function<void(WriterStats, size_t mailbox)> reply;
};

struct WriterState {
  std::unique_ptr<persistence::LedgerStore> store;
  std::vector<WriteRequest> batch;
  bool flush_queued = false;
  size_t max_batch = 512;
  WriterStats stats;
  std::function<void(std::chrono::microseconds, size_t)> on_commit;  // metrics hook
  std::shared_ptr<LedgerGauges> gauges;
  static inline const char* name = "ledger_writer";
};

// `observe` (may be empty) is called after every commit attempt with its latency and batch size.
caf::behavior ledger_writer(caf::stateful_actor<WriterState>* self, std::string database_url,
                            size_t max_batch,
                            std::function<void(std::chrono::microseconds, size_t)> observe,
                            std::shared_ptr<LedgerGauges> gauges);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::WriterInspect)
