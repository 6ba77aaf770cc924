// TransferCoordinator: one long-lived actor that coordinates every transfer of the instance, each
// by its transfer_id (it was one short-lived actor per transfer: CAF wakes its clock thread for
// every actor that terminates, half a context switch per transfer). The protocol, deadlock-free by
// ordering:
//  1. reserve the leg of the account with the lower user_id, then the other one; a reserved account
//     is locked for this transfer (its other mutations wait) and has applied its leg in memory;
//  2. with both legs reserved, hand the transfer's two rows (and its idempotency outcome) to the
//     LedgerWriter as one mutation, then release both accounts, which go on with their next work;
//  3. the writer commits the two rows in one database transaction and only then answers the client
//     and tells both accounts their new committed balance.
// Because every coordinator locks in the same global order, A->B and B->A cannot wait on each
// other; because the mutation reaches the writer before either account is released, each account's
// rows reach the writer (and the database) in the order the account applied them.
// Across owners (SPEC.md section 7) a coordinator reserves one leg only: on the payer's owner the
// debit, committed with the transfer's in-transit row (the client is answered then); on the
// payee's owner, later, the credit, committed with the deletion of that row (an "arrival").
#pragma once

#include <caf/all.hpp>
#include <string>
#include <unordered_map>

#include "actors/ledger_messages.hpp"

namespace wallet::actors {

// One transfer in progress.
struct TransferState {
  TransferCommand command;
  std::string transfer_id;
  std::vector<LegReservation> legs;  // in lock order
};

// One transaction of many postings in progress (actors/posting_coordinator.cpp): its accounts in
// lock order with their net change, reserved one after the other.
struct PostingsState {
  TransactionCommand command;
  struct Account {
    std::string account_id;
    int64_t net = 0;    // the sum of its postings' changes
    bool pays = false;  // it is the `from` of a posting
  };
  std::vector<Account> accounts;     // ordered by account_id (the global lock order)
  std::vector<LegReservation> legs;  // reserved so far, in that order
};

struct CoordinatorState {
  caf::actor registry;
  caf::actor writer;
  std::unordered_map<std::string, TransferState> transfers;     // by transfer_id
  std::unordered_map<std::string, PostingsState> transactions;  // by transaction_id
  // Reversals handed on and not answered yet, per reversed transaction: their amount, and the
  // reversals that could exceed what is left while they are in flight (posting_coordinator.cpp).
  struct ReversalsOf {
    int64_t in_flight = 0;
    std::vector<TransactionCommand> waiting;
  };
  std::unordered_map<std::string, ReversalsOf> reversals;
  static inline const char* name = "transfer_coordinator";
};

// Starts a transfer: (coordinate_atom, TransferCommand). Each account answers its leg with
// (reserved_atom, LegReservation), which names the transfer.
// Transactions of many postings, coordinated by the same actor (actors/posting_coordinator.cpp):
// start one, and take a leg's reservation (false: the leg is not of a transaction here).
void start_transaction(caf::stateful_actor<CoordinatorState>* self, TransactionCommand& command);
bool take_transaction_leg(caf::stateful_actor<CoordinatorState>* self, LegReservation& leg);
void reversal_settled(caf::stateful_actor<CoordinatorState>* self, const std::string& original,
                      int64_t amount);

caf::behavior transfer_coordinator(caf::stateful_actor<CoordinatorState>* self, caf::actor registry,
                                   caf::actor writer);

}  // namespace wallet::actors
