// The deadline check (issue 23, "deadlines that hold everywhere"): every request that moves or
// reserves money, or changes an account's rules, is answered within LedgerOptions::request_deadline
// plus a scheduling slack of its sending, unless its mutation reached the writer before then (a
// commit, and the resolution of a commit in doubt, may take longer: once handed over, a request
// gets its real outcome).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/ledger_types.hpp"
#include "test/simulation/client_op.hpp"

namespace wallet::simulation {

constexpr int64_t kDeadlineSlackMs = 500;

// Whether `mutation` carries the effect of `op`. A mutation names no client request, so it is
// matched by what it does: a keyed request by its key (its outcome is stored with the mutation,
// also for a keyed refusal, and duplicates of the key wait for that one mutation); an unkeyed one
// by its effect (the account, kind and amount of its row, the hold it creates, the hold it
// closes and how, the change of its account's rules, or the transaction's postings). Two unanswered
// unkeyed requests with the same effect cannot be told apart: both count as handed over. That only
// ever excuses a request (the check may miss a late answer, it never blames one that was handed
// over in time).
bool carries(const persistence::LedgerMutation& mutation, const ClientOp& op);

// Records, in every request still unanswered that `mutation` carries, that it reached the writer
// at `now_ms` (the first time only).
void note_handover(const std::vector<std::shared_ptr<ClientOp>>& ops,
                   const persistence::LedgerMutation& mutation, int64_t now_ms);

// A keyed request sent while an earlier one with its key and body is at the writer, unanswered,
// waits at the gate for that commit (the key's executing slot): it counts as handed over when
// sent, at `now_ms`.
void note_duplicate(const std::vector<std::shared_ptr<ClientOp>>& ops, ClientOp& op,
                    int64_t now_ms);

// Called at a quiet moment: every message delivered and every store operation that is not
// stalled completed, just before the clock moves on (the settle phase and the quiet spells of the
// faulty one). Marks every request still unanswered more than its deadline plus kDeadlineSlackMs
// after it was sent, with nothing of it at the writer by then. Only quiet moments count: in the
// faulty phase the schedule may leave a message undelivered while time moves, and an answer late
// for that reason is the schedule's doing, not the protocol's; at a quiet moment nothing but the
// protocol (a lookup without a timer, work waiting without a deadline) keeps a client waiting.
void note_overdue(const std::vector<std::shared_ptr<ClientOp>>& ops, int64_t deadline_ms,
                  int64_t now_ms);

// One failure text per request marked overdue.
std::vector<std::string> check_deadlines(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                         int64_t deadline_ms);

}  // namespace wallet::simulation
