#include "actors/transfer_coordinator.hpp"

#include <algorithm>

#include "actors/ledger_outcomes.hpp"
#include "domain/ids.hpp"

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<CoordinatorState>*;

void request_leg(Self self, const TransferState& t, const std::string& user_id) {
  const auto& cmd = t.command;
  ReserveRequest request{t.transfer_id,
                         user_id,
                         user_id == cmd.from_user_id ? LegRole::debit : LegRole::credit,
                         cmd.amount,
                         caf::actor_cast<caf::actor>(self),
                         cmd.deadline};
  if (user_id == cmd.from_user_id) request.hold_id = cmd.hold_id;  // a capture
  // The user-id form names default accounts only; a capture or an arriving credit
  // names the accounts its hold or its debit named.
  request.account_form = cmd.account_form || !cmd.hold_id.empty() || cmd.arrival;
  self->send(self->state.registry, reserve_atom::value, std::move(request));
}

// The leg to reserve first: both in global lock order, or the one leg this instance commits.
const std::string& first_leg(const TransferCommand& cmd) {
  if (cmd.arrival) return cmd.to_user_id;
  if (cmd.payee_partition >= 0) return cmd.from_user_id;
  return std::min(cmd.from_user_id, cmd.to_user_id);
}

size_t legs_needed(const TransferCommand& cmd) {
  return cmd.arrival || cmd.payee_partition >= 0 ? 1 : 2;
}

persistence::InTransit in_transit(const TransferState& s) {
  const auto& cmd = s.command;
  return {s.transfer_id,
          cmd.from_user_id,
          cmd.to_user_id,
          cmd.amount,
          std::max(cmd.payee_partition, 0),
          {}};
}

// Hands the transfer to the writer and releases its accounts; the transfer is then done here, so
// its rows and its reply are moved into the writer's request, not copied.
void commit(Self self, TransferState& s) {
  auto& cmd = s.command;
  WriteRequest request;
  int64_t from_balance = 0;
  AnswerForm form;
  form.exponent = s.legs.front().entry.exponent;
  if (cmd.account_form) {
    form.currency = cmd.currency;
    form.from_owner = cmd.from_owner;
    form.to_owner = cmd.to_owner;
  }
  for (auto& leg : s.legs) {
    if (leg.entry.kind == persistence::EntryKind::transfer_debit)
      from_balance = leg.entry.new_balance;
    request.participants.emplace_back(leg.account, leg.entry.new_balance);
    if (!cmd.posting_of.empty()) {
      // A posting of a transaction across owners: the credit that arrives, or the capture of the
      // hold of its payer (both rows, or the debit with the credit in transit). Its rows name the
      // transaction, as every posting row does.
      leg.entry.kind = leg.entry.kind == persistence::EntryKind::transfer_debit
                           ? persistence::EntryKind::posting_debit
                           : persistence::EntryKind::posting_credit;
      leg.entry.transfer_id.clear();
      leg.entry.transaction_id = cmd.posting_of;
      leg.entry.posting = cmd.posting;
    }
  }
  // Debit row first, so the history reads in the order the money moved (an arriving posting's
  // credit is a posting_credit: it must not be left out).
  for (auto kind :
       {persistence::EntryKind::transfer_debit, persistence::EntryKind::transfer_credit,
        persistence::EntryKind::posting_debit, persistence::EntryKind::posting_credit}) {
    for (auto& leg : s.legs) {
      if (leg.entry.kind == kind) request.mutation.entries.push_back(std::move(leg.entry));
    }
  }
  if (cmd.hold_id.empty()) {
    request.on_commit = Reply{domain::Transferred{s.transfer_id, cmd.from_user_id, cmd.to_user_id,
                                                  cmd.amount, from_balance, form}};
  } else {
    // A capture closes its hold in the same commit as the transfer's two rows.
    request.on_commit =
        Reply{domain::HoldCaptured{cmd.hold_id, s.transfer_id, cmd.amount, from_balance, form}};
    request.mutation.hold_changes.push_back(
        persistence::HoldChange{cmd.hold_id, "captured", s.transfer_id, cmd.amount, form.exponent});
  }
  // Beyond one machine: the debit departs with its in-transit row, or the credit arrives.
  if (cmd.payee_partition >= 0) {
    request.mutation.departures.push_back(in_transit(s));
    request.mutation.departures.back().transaction_id = cmd.posting_of;
    request.mutation.departures.back().posting = cmd.posting;
  }
  for (auto& leg : request.mutation.departures) leg.exponent = form.exponent;
#ifndef WALLET_PROTOCOL_BUG_LOST_RECEIPT  // negative control of the simulation (test-only build)
  if (cmd.arrival) request.mutation.arrivals.push_back(in_transit(s));
#endif
  for (auto& leg : request.mutation.arrivals) leg.exponent = form.exponent;
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.reply = std::move(cmd.reply);
  // Order matters: the writer must hold this mutation before either account submits a later one.
  self->send(self->state.writer, submit_atom::value, std::move(request));
  for (auto& leg : s.legs) self->send(leg.account, release_atom::value, s.transfer_id, true);
}

// A transfer (or capture) to coordinate: its two legs are reserved one after the other.
void start_transfer(Self self, TransferCommand& command) {
  auto& transfers = self->state.transfers;
  std::string transfer_id =
      command.transfer_id.empty() ? domain::new_uuid_v4() : command.transfer_id;
  auto [it, fresh] = transfers.try_emplace(transfer_id);
  if (!fresh) {
    // One transfer_id is coordinated once at a time (the in-transit receiver credits each
    // transfer once at a time, and new ids are fresh): a second start is refused unchanged.
    command.reply(error_reply(domain::ErrorCode::unavailable,
                              "this transfer is already being applied, retry later"));
    return;
  }
  auto& t = it->second;
  t.command = std::move(command);
  t.transfer_id = std::move(transfer_id);
  request_leg(self, t, first_leg(t.command));
}

// One leg reserved (or refused): with both held, the transfer commits; a refusal undoes the other.
void leg_reserved(Self self, LegReservation& leg) {
  auto& transfers = self->state.transfers;
  auto it = transfers.find(leg.transfer_id);
  if (it == transfers.end()) {
    take_transaction_leg(self, leg);  // or not ours: nothing is waiting for it
    return;
  }
  auto& s = it->second;
  if (leg.refusal) {
    for (auto& held : s.legs) self->send(held.account, release_atom::value, s.transfer_id, false);
    reject(self, self->state.writer, s.command.tag, *leg.refusal, s.command.reply,
           s.command.deadline);
    transfers.erase(it);
    return;
  }
  s.legs.push_back(std::move(leg));
  if (s.legs.size() == legs_needed(s.command)) {
    if (s.legs.size() == 2 && s.legs.front().currency != s.legs.back().currency) {
      // Money of two currencies never meets (the HTTP layer checks first; this
      // is the actors' own guard). Nothing changed.
      for (auto& held : s.legs) {
        self->send(held.account, release_atom::value, s.transfer_id, false);
      }
      s.command.reply(error_reply(domain::ErrorCode::currency_mismatch,
                                  "both accounts of a transfer must hold one currency"));
      transfers.erase(it);
      return;
    }
    if (self->clock().now() > s.command.deadline) {
      // Not handed to the writer yet: drop it, undo both reservations, nothing changed.
      for (auto& held : s.legs) {
        self->send(held.account, release_atom::value, s.transfer_id, false);
      }
      s.command.reply(timeout_reply());
    } else {
      commit(self, s);
    }
    transfers.erase(it);
    return;
  }
  const auto& cmd = s.command;
  request_leg(self, s,
              s.legs.front().user_id == cmd.from_user_id ? cmd.to_user_id : cmd.from_user_id);
}

}  // namespace

caf::behavior transfer_coordinator(caf::stateful_actor<CoordinatorState>* self, caf::actor registry,
                                   caf::actor writer) {
  self->state.registry = std::move(registry);
  self->state.writer = std::move(writer);
  return {
      [=](coordinate_atom, TransferCommand& command) { start_transfer(self, command); },
      [=](transact_atom, TransactionCommand& command) { start_transaction(self, command); },
      [=](reversal_settled_atom, const std::string& original, int64_t amount) {
        reversal_settled(self, original, amount);
      },
      [=](reserved_atom, LegReservation& leg) { leg_reserved(self, leg); },
  };
}

}  // namespace wallet::actors
