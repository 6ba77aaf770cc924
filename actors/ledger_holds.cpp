// The Ledger's holds: placing one (its payee checked first), capturing it (a transfer whose debit
// leg consumes the hold), voiding it, and reading it. A hold of a transaction is the
// transaction's to settle (actors/transaction_holds.cpp), never a client's.
#include "actors/ledger.hpp"
#include "actors/ledger_internal.hpp"
#include "domain/money.hpp"

namespace wallet::actors {
namespace {

using ledger_internal::partition_moved_reply;

// Across owners: a hold of a transaction is settled with its transaction, never by a client.
Reply hold_of_transaction(const persistence::HoldRecord& hold) {
  return error_reply(domain::ErrorCode::hold_not_pending,
                     "hold " + hold.hold_id + " belongs to transaction " + hold.transaction_id +
                         ", which captures or voids it");
}

domain::Error hold_not_found(const std::string& hold_id) {
  return {domain::ErrorCode::hold_not_found, "no hold " + hold_id};
}

}  // namespace

void Ledger::create_hold(HoldCommand command) {
  if (!admit(command.reply, command.from_user_id)) return;
  // The payee must exist (its account actor says so, or Postgres when another instance owns
  // it); then the payer's actor decides.
  auto start = [this, registry = registry_](HoldCommand cmd) {
    AvailableQuery payee;
    payee.user_id = cmd.to_user_id;
    payee.account_form = cmd.account_form;
    payee.deadline = cmd.deadline;
    auto stage = start_stage(cmd.deadline, cmd.reply);
    payee.reply = [registry, stage,
                   cmd = std::move(cmd)](domain::Result<BalanceFigures> found) mutable {
      if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
      if (!found) return cmd.reply(error_reply(found.error().code, found.error().message));
      caf::anon_send(registry, hold_atom::value, std::move(cmd));
    };
    balance_figures(std::move(payee));
  };
  run_keyed(std::move(command), std::move(start));
}

void Ledger::capture_hold(std::string hold_id, std::optional<int64_t> amount,
                          std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply, {})) return;
  const Deadline deadline = deadline_from_now();
  // The hold's row names its payer (whose actor holds it) and payee; a capture is then a transfer
  // whose debit leg consumes the hold.
  auto start = [this, hold_id, amount, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    auto stage = start_stage(deadline, done);
    backend_->find_hold(
        hold_id, [this, hold_id, amount, tag, done, deadline, stage](domain::Result<Found> found) {
          if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
          if (!found) return done(error_reply(found.error().code, found.error().message));
          if (!found.value())
            return done(
                error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
          const auto& hold = *found.value();
          if (!hold.transaction_id.empty()) {
            return answer_decided(tag, hold_of_transaction(hold), std::move(done));
          }
          if (amount && *amount > hold.amount) {
            return done(error_reply(domain::ErrorCode::invalid_amount,
                                    "amount must be at most the held amount " +
                                        domain::format_minor_units(hold.amount)));
          }
          if (owned_elsewhere(hold.from_user_id)) return done(partition_moved_reply());
          TransferCommand command;
          command.from_user_id = hold.from_user_id;
          command.to_user_id = hold.to_user_id;
          command.amount = amount.value_or(hold.amount);
          command.tag = tag;
          command.reply = done;
          command.deadline = deadline;
          command.hold_id = hold_id;
          start_transfer(std::move(command));
        });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, deadline, std::move(reply), start);
}

void Ledger::void_hold(std::string hold_id, std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply, {})) return;
  const Deadline deadline = deadline_from_now();
  auto start = [this, hold_id, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    auto stage = start_stage(deadline, done);
    backend_->find_hold(
        hold_id, [this, hold_id, tag, done, deadline, stage](domain::Result<Found> found) {
          if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
          if (!found) return done(error_reply(found.error().code, found.error().message));
          if (!found.value())
            return done(
                error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
          if (!found.value()->transaction_id.empty()) {
            return answer_decided(tag, hold_of_transaction(*found.value()), std::move(done));
          }
          if (owned_elsewhere(found.value()->from_user_id)) return done(partition_moved_reply());
          VoidCommand command{found.value()->from_user_id, hold_id, tag, done, deadline};
          caf::anon_send(registry_, void_atom::value, std::move(command));
        });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, deadline, std::move(reply), start);
}

void Ledger::hold(
    std::string hold_id,
    std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> reply) {
  backend_->find_hold(hold_id, std::move(reply));
}

}  // namespace wallet::actors
