// The Ledger's money movements: deposits, withdrawals and transfers (a transfer to an account
// served elsewhere settles across owners), each admitted, then started once per idempotency key.
#include "actors/ledger.hpp"
#include "domain/partitioning.hpp"

namespace wallet::actors {

void Ledger::deposit(DepositCommand command) {
  if (!admit(command.reply, command.user_id)) return;
  run_keyed(std::move(command), [registry = registry_](DepositCommand cmd) {
    caf::anon_send(registry, deposit_atom::value, std::move(cmd));
  });
}

void Ledger::transfer(TransferCommand command) {
  if (!admit(command.reply, command.from_user_id)) return;
  run_keyed(std::move(command), [this](TransferCommand cmd) { start_transfer(std::move(cmd)); });
}

void Ledger::start_transfer(TransferCommand command) {
  if (command.arrival || !owned_elsewhere(command.to_user_id)) {
    caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
    return;
  }
  // Across owners: the payee must exist (its owner cannot refuse the credit later for that), then
  // this instance commits the debit with the in-transit row.
  command.payee_partition = domain::partition_of(command.to_user_id, options_.owned->partitions());
  auto payee = command.to_user_id;
  auto stage = start_stage(command.deadline, command.reply);
  read_elsewhere_owned(payee, [this, stage, command = std::move(command)](
                                  domain::Result<persistence::AccountRecord> found) mutable {
    if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
    if (!found) return command.reply(error_reply(found.error().code, found.error().message));
    // As the payee's actor would answer: the user form names default accounts only, and a
    // closed account takes no credit.
    if (!command.account_form && found->user_id != command.to_user_id) {
      return command.reply(error_reply(domain::ErrorCode::user_not_found,
                                       "no account for user " + command.to_user_id));
    }
    if (found->status == persistence::AccountStatus::closed) {
      // Decided, as the payee's actor would decide it.
      return answer_decided(command.tag,
                            error_reply(domain::ErrorCode::account_closed,
                                        "account " + command.to_user_id + " is closed"),
                            std::move(command.reply));
    }
    caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
  });
}

void Ledger::withdraw(WithdrawCommand command) {
  if (!admit(command.reply, command.user_id)) return;
  run_keyed(std::move(command), [registry = registry_](WithdrawCommand cmd) {
    caf::anon_send(registry, withdraw_atom::value, std::move(cmd));
  });
}

}  // namespace wallet::actors
