// Transactions across owners (SPEC.md section 8 "Across owners", DESIGN.md section 10): the debits
// of one transaction whose payers several instances serve apply all or none.
//
// The coordinator (the instance serving the first payer, where the HTTP layer sends it):
//  1. asks the owner of every payer served elsewhere to place a hold of that posting's amount,
//     a hold of the transaction (it names the transaction and the posting; it never expires by
//     time, no client may capture or void it), all at once;
//  2. with every hold standing, hands the transaction to the coordinator actor, which applies the
//     postings of its own payers as any transaction (actors/posting_coordinator.cpp) and commits
//     them with the transaction's record and the decision `commit` (transaction_decisions,
//     migration 012): that commit is the decision; the client hears 201 then;
//  3. tells each hold's owner to settle; the owner captures the hold as its posting (the debit
//     row, and the credit row or the credit in transit, as a cross-owner transfer's).
// Any refusal (a hold refused, an account of its own refusing, the deadline) decides `abort`: no
// row of the transaction exists anywhere, and every hold is voided. A failure whose outcome is
// unknown (an owner did not answer) also decides `abort` before the client hears that nothing
// changed.
// The owner of a hold never waits forever: its resolver settles the holds of transactions placed
// more than resolve_after ago, deciding `abort` first when nothing was decided (the coordinator
// crashed, or is slower than that). The decision is one row written once, so the coordinator's
// commit and an owner's abort have one winner: the loser's commit fails as a whole (WL010) or it
// reads the decision that stands. A hold is settled only as its decision says, so the debits of
// one transaction are never applied in part; the balance of each payer is never touched before
// the decision (a hold only lowers what it may spend).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "actors/ledger.hpp"
#include "actors/ledger_outcomes.hpp"
#include "domain/ids.hpp"

namespace wallet::actors {
namespace {

using resolve_atom = caf::atom_constant<caf::atom("resolve")>;

// Runs `resolve` every `every`, one run at a time.
caf::behavior hold_resolver(caf::event_based_actor* self,
                            std::function<void(std::function<void(size_t)>)> resolve,
                            std::chrono::milliseconds every) {
  self->delayed_send(self, every, resolve_atom::value);
  return {
      [=](resolve_atom) {
        auto me = caf::actor_cast<caf::actor>(self);
        resolve([me, every](size_t) { caf::delayed_anon_send(me, every, resolve_atom::value); });
      },
  };
}

// A hold owner's refusal, as the coordinator answers it: naming the payer.
domain::Error refusal_of(const Reply& answer, const std::string& payer) {
  // Typed when this instance placed it; encoded when the answer came from another instance.
  std::optional<domain::Error> refusal;
  if (const auto* refused = std::get_if<domain::Refused>(&answer.outcome)) {
    refusal = refused->error;
  } else if (const auto* encoded = std::get_if<domain::Encoded>(&answer.outcome)) {
    refusal = domain::decode_refusal(*encoded);
  }
  if (!refusal) {
    return {domain::ErrorCode::unavailable, "the owner of account " + payer + " refused its hold",
            payer};
  }
  if (refusal->code == domain::ErrorCode::user_not_found) {
    return {domain::ErrorCode::account_not_found, "no account " + payer, payer};
  }
  return {refusal->code, std::move(refusal->message), payer};
}

// Refusals that decide the transaction for good (stored as its key's outcome): what the payer's
// actor decided, as it would for a transaction of one owner.
bool decided_refusal(domain::ErrorCode code) {
  switch (code) {
    case domain::ErrorCode::insufficient_funds:
    case domain::ErrorCode::account_frozen:
    case domain::ErrorCode::account_closed:
      return true;
    default:
      return false;
  }
}

// The placements of one transaction's holds, answered on any thread: the last answer goes on.
struct Placing {
  TransactionCommand command;
  std::vector<Reply> answers;
  std::atomic<size_t> left{0};
};

}  // namespace

void Ledger::place_holds(TransactionCommand command) {
  command.transaction_id = domain::new_uuid_v4();
  const auto within = std::chrono::duration_cast<std::chrono::milliseconds>(command.deadline -
                                                                            system_.clock().now());
  if (within.count() <= 0) return command.reply(timeout_reply());
  auto placing = std::make_shared<Placing>();
  placing->answers.resize(command.held.size());
  placing->left = command.held.size();
  std::vector<HoldPlacement> placements;
  for (auto& held : command.held) {
    held.hold_id = domain::new_uuid_v4();
    const auto& posting = command.postings.at(static_cast<size_t>(held.posting));
    placements.push_back(HoldPlacement{held.hold_id, posting.from, posting.to, posting.amount,
                                       posting.currency, command.transaction_id, held.posting});
  }
  placing->command = std::move(command);
  for (size_t i = 0; i < placements.size(); ++i) {
    options_.remote_holds->place(
        std::move(placements[i]), within, [this, placing, i](Reply answer) {
          placing->answers[i] = std::move(answer);
          if (placing->left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
          auto& cmd = placing->command;
          for (size_t k = 0; k < placing->answers.size(); ++k) {
            const auto& a = placing->answers[k];
            if (a.status() == 201) continue;
            // Refused, or unknown: decided `abort` (a hold that stands after all is voided by
            // its owner), and nothing of the transaction ever applies.
            abort_with_holds(cmd);
            const auto& payer = cmd.held[k].payer;
            if (a.status() >= 400 && a.status() < 500) {
              auto refusal = refusal_of(a, payer);
              Reply reply{domain::Refused{refusal}};
              if (decided_refusal(refusal.code)) {
                return answer_decided(cmd.tag, std::move(reply), std::move(cmd.reply));
              }
              return cmd.reply(std::move(reply));
            }
            spdlog::warn("event=transaction_hold_unplaced transaction_id={} payer={} status={}",
                         cmd.transaction_id, payer, a.status());
            return cmd.reply(error_reply(
                domain::ErrorCode::timeout,
                "the instance serving account " + payer +
                    " did not place its hold in time; the transaction was aborted, nothing "
                    "changed, retry"));
          }
          decided_with_holds(std::move(cmd));
        });
  }
}

void Ledger::decided_with_holds(TransactionCommand command) {
  // The coordinator's commit decides; whatever it answers, the holds' owners are told to settle
  // (a commit captures them, anything else is an abort recorded first).
  auto transaction = command;  // for the abort: postings, holds and id
  transaction.reply = nullptr;
  transaction.render = nullptr;
  command.reply = [this, transaction = std::move(transaction),
                   done = std::move(command.reply)](Reply reply) mutable {
    if (reply.status() == 201) {
      for (const auto& h : transaction.held) options_.remote_holds->settle(h.payer, h.hold_id);
    } else {
      abort_with_holds(transaction);
    }
    done(std::move(reply));
  };
  caf::anon_send(coordinator_, transact_atom::value, std::move(command));
}

void Ledger::abort_with_holds(const TransactionCommand& command) {
  std::vector<std::pair<std::string, std::string>> holds;
  for (const auto& h : command.held) holds.emplace_back(h.payer, h.hold_id);
  backend_->decide(command.transaction_id, true,
                   [this, holds, id = command.transaction_id](
                       domain::Result<persistence::TransactionDecision> decided) {
                     if (!decided) {
                       // Its holds' owners decide `abort` themselves after resolve_after.
                       spdlog::warn("event=transaction_abort_unrecorded transaction_id={} cause={}",
                                    id, decided.error().message);
                       return;
                     }
                     for (const auto& [payer, hold_id] : holds) {
                       options_.remote_holds->settle(payer, hold_id);
                     }
                   });
}

void Ledger::settle_transaction_hold(std::string hold_id, bool force,
                                     std::function<void(bool)> done) {
  backend_->find_hold(hold_id, [this, force, done = std::move(done)](
                                   domain::Result<std::optional<persistence::HoldRecord>> found) {
    if (!found || !found.value()) return done(false);
    auto hold = std::move(*found.value());
    if (hold.transaction_id.empty()) return done(false);
    if (hold.status != "pending") return done(true);
    if (owned_elsewhere(hold.from_user_id)) return done(false);
    const std::string transaction_id = hold.transaction_id;
#ifdef WALLET_PROTOCOL_BUG_EXPIRY_RACE  // negative control of the simulation (test-only build)
    const bool abort_if_none = false;   // the abort is not recorded: the coordinator may commit
#else
    const bool abort_if_none = force;
#endif
    backend_->decide(transaction_id, abort_if_none,
                     [this, hold = std::move(hold), force,
                      done](domain::Result<persistence::TransactionDecision> decided) mutable {
                       if (!decided) return done(false);
                       auto decision = decided.value();
#ifdef WALLET_PROTOCOL_BUG_EXPIRY_RACE
                       if (decision == persistence::TransactionDecision::none && force) {
                         decision = persistence::TransactionDecision::abort;  // undecided
                       }
#endif
                       (void)force;
                       settle_as_decided(hold, decision, std::move(done));
                     });
  });
}

void Ledger::settle_as_decided(const persistence::HoldRecord& hold,
                               persistence::TransactionDecision decision,
                               std::function<void(bool)> done) {
  using persistence::TransactionDecision;
  if (decision == TransactionDecision::none) return done(false);
  auto settled = [done = std::move(done)](Reply reply) { done(reply.status() < 300); };
  if (decision == TransactionDecision::abort) {
    VoidCommand command{hold.from_user_id, hold.hold_id, std::nullopt, std::move(settled),
                        deadline_from_now()};
    caf::anon_send(registry_, void_atom::value, std::move(command));
    return;
  }
  // Captured as its posting: the rows name the transaction (transfer_coordinator.cpp), and the
  // credit leaves in transit when another instance serves the payee.
  TransferCommand capture;
  capture.from_user_id = hold.from_user_id;
  capture.to_user_id = hold.to_user_id;
  capture.amount = hold.amount;
  capture.hold_id = hold.hold_id;
  capture.account_form = true;
  capture.currency = hold.currency;
  capture.posting_of = hold.transaction_id;
  capture.posting = hold.posting;
  capture.deadline = deadline_from_now();
  capture.reply = std::move(settled);
  start_transfer(std::move(capture));
}

void Ledger::resolve_transaction_holds(std::function<void(size_t)> done) {
  std::vector<int> partitions;
  int count = 0;
  if (options_.owned) {
    partitions = options_.owned->serving();
    count = options_.owned->partitions();
    if (partitions.empty()) return done(0);
  }
  // By the hold clock: the holds' placing time is the store's now(), which it follows.
  const int64_t placed_before = options_.epoch_ms() - options_.resolve_after.count();
  backend_->transaction_holds_due(
      std::move(partitions), count, placed_before, 64,
      [this, done = std::move(done)](domain::Result<std::vector<persistence::HoldRecord>> due) {
        if (!due) return done(0);
        const size_t n = due.value().size();
        for (const auto& hold : due.value()) {
          spdlog::info("event=transaction_hold_resolving hold_id={} transaction_id={}",
                       hold.hold_id, hold.transaction_id);
          settle_transaction_hold(hold.hold_id, true, [](bool) {});
        }
        done(n);
      });
}

void Ledger::start_hold_resolver() {
  if (!options_.owned || options_.resolve_every.count() <= 0) return;
  hold_resolver_ = system_.spawn(
      hold_resolver,
      [this](std::function<void(size_t)> done) { resolve_transaction_holds(std::move(done)); },
      options_.resolve_every);
}

}  // namespace wallet::actors
