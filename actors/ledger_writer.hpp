// LedgerWriter: the group-commit writer. Submissions are appended to a batch; a flush message
// queued behind them hands everything that arrived in the meantime to the backend as one
// transaction, so batch size follows load and a lone request is never delayed. Up to the
// backend's write_lanes() batches are written at once (a lane is a connection), and batches in
// flight share no account: a request whose account (a participant) is in flight on one lane waits,
// and so does every later request of that account, so each account's rows still commit one batch
// after another, in the order its actor handed them over. What arrives while every lane is busy
// forms the next batch. Clients are answered only after their batch is durable. A batch refused
// by Postgres is retried one mutation at a time on its lane, so one bad mutation fails alone and
// its batch-mates still commit. A batch whose commit is in doubt (the connection broke under it)
// is looked up on its lane until it is known whether it committed: nobody is answered, no account
// is told and its accounts stay in flight before that is known. A batch refused by the ownership
// fence (another instance took a partition this one claims) wrote nothing: its clients are
// answered 503 partition_moved and its accounts reload; it is not retried. A mutation whose
// idempotency key already holds a stored outcome (found while isolating) is not written: its reply
// says so (`key_taken`, for the IdempotencyGate to answer the stored outcome) and its accounts
// reload, like a refused one's; its batch-mates commit.
//
// It never blocks (the backend answers by callback), so it is scheduled like every other actor,
// in the service and in the protocol simulation.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_backend.hpp"

namespace wallet::actors {

struct WriterStats {
  uint64_t batches = 0;
  uint64_t mutations = 0;
  uint64_t failed_mutations = 0;
  uint64_t in_doubt = 0;    // commits whose outcome had to be looked up
  uint64_t fenced = 0;      // commits refused by the ownership fence (a partition moved)
  uint64_t keys_taken = 0;  // mutations whose idempotency key already held a stored outcome
  uint64_t commit_micros_total = 0;  // summed over lanes (may exceed the time elapsed)
  size_t largest_batch = 0;
  size_t lanes = 1;
  size_t lanes_busy = 0;
  size_t most_lanes_busy = 0;  // the most batches ever written at once
};

struct WriterInspect {
  std::function<void(WriterStats, size_t mailbox)> reply;
};

// One batch being written, with everything needed to finish it.
struct WriteLane {
  std::vector<WriteRequest> writing;    // being written now; untouched until its outcome is known
  std::vector<caf::actor_id> accounts;  // the participants of `writing`
  bool busy = false;
  bool isolating = false;    // retrying `writing` one mutation at a time
  size_t isolate_index = 0;  // the mutation being retried alone
  std::chrono::milliseconds resolve_backoff{0};
  std::chrono::steady_clock::time_point write_started;
};

struct WriterState {
  std::shared_ptr<persistence::LedgerBackend> backend;
  std::vector<WriteRequest> batch;  // waiting for a lane
  std::vector<WriteLane> lanes;     // fixed in size once started
  // Every account in flight, with its lane: a later request of that account waits for it.
  std::unordered_map<caf::actor_id, size_t> in_flight;
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
