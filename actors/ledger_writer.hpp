// LedgerWriter: the group-commit writer. Submissions are appended to a batch; a flush message
// queued behind them hands everything that arrived in the meantime to the backend as one
// transaction, so batch size follows load and a lone request is never delayed. One batch is
// written at a time; what arrives meanwhile forms the next. Clients are answered only after their
// batch is durable. A batch refused by Postgres is retried one mutation at a time, so one bad
// mutation fails alone and its batch-mates still commit. A batch whose commit is in doubt (the
// connection broke under it) is looked up until it is known whether it committed: nobody is
// answered, and no account is told, before that is known. A batch refused by the ownership fence
// (another instance took a partition this one claims) wrote nothing: its clients are answered
// 503 partition_moved and its accounts reload; it is not retried.
//
// In the service it is a detached actor (its own thread: the Postgres backend blocks); in the
// protocol simulation it is scheduled like every other actor over the model backend.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"

namespace wallet::actors {

struct WriterStats {
  uint64_t batches = 0;
  uint64_t mutations = 0;
  uint64_t failed_mutations = 0;
  uint64_t in_doubt = 0;  // commits whose outcome had to be looked up
  uint64_t fenced = 0;    // commits refused by the ownership fence (a partition moved)
  uint64_t commit_micros_total = 0;
  size_t largest_batch = 0;
};

struct WriterInspect {
  std::function<void(WriterStats, size_t mailbox)> reply;
};

struct WriterState {
  std::shared_ptr<persistence::LedgerBackend> backend;
  std::vector<WriteRequest> batch;    // waiting for the next write
  std::vector<WriteRequest> writing;  // being written now
  bool busy = false;
  bool isolating = false;    // retrying `writing` one mutation at a time
  size_t isolate_index = 0;  // the mutation being retried alone
  std::chrono::milliseconds resolve_backoff{0};
  std::chrono::steady_clock::time_point write_started;
  bool flush_queued = false;
  size_t max_batch = 512;
  WriterStats stats;
  std::function<void(std::chrono::microseconds, size_t)> on_commit;  // metrics hook
  std::shared_ptr<LedgerGauges> gauges;
  static inline const char* name = "ledger_writer";
};

// `observe` (may be empty) is called after every commit attempt with its latency and batch size.
caf::behavior ledger_writer(caf::stateful_actor<WriterState>* self,
                            std::shared_ptr<persistence::LedgerBackend> backend, size_t max_batch,
                            std::function<void(std::chrono::microseconds, size_t)> observe,
                            std::shared_ptr<LedgerGauges> gauges);

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::WriterInspect)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::persistence::ApplyStatus)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::domain::Result<bool>)
