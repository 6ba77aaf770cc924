// The atoms of transaction-service's ledger actors: the message tags of the commands from the
// edges and of the protocol between account actors, transfer coordinators and the LedgerWriter.
// Included by actors/ledger_messages.hpp.
#pragma once

#include <caf/all.hpp>

namespace wallet::actors {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using reserved_atom = caf::atom_constant<caf::atom("reserved")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using settled_atom = caf::atom_constant<caf::atom("settled")>;
using balance_atom = caf::atom_constant<caf::atom("balance")>;
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using retired_atom = caf::atom_constant<caf::atom("retired")>;
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using opened_atom = caf::atom_constant<caf::atom("opened")>;
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using executed_atom = caf::atom_constant<caf::atom("executed")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using applied_atom = caf::atom_constant<caf::atom("applied")>;
using resolved_atom = caf::atom_constant<caf::atom("resolved")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
// Withdrawals and holds.
using withdraw_atom = caf::atom_constant<caf::atom("withdraw")>;
using hold_atom = caf::atom_constant<caf::atom("hold")>;
using void_atom = caf::atom_constant<caf::atom("voidhold")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using available_atom = caf::atom_constant<caf::atom("available")>;
// To the transfer coordinator: start this transfer.
using coordinate_atom = caf::atom_constant<caf::atom("coordinate")>;
// The registry to an account: one of the commands above, as AccountState::Work.
using work_atom = caf::atom_constant<caf::atom("work")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
// Beyond one machine: a partition was taken or given up (the registry tells its accounts), and
// the receiver of cross-owner credits.
using moved_atom = caf::atom_constant<caf::atom("moved")>;
using arrive_atom = caf::atom_constant<caf::atom("arrive")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
// A failover: the database server changed, so every loaded account reloads before it answers.
using new_server_atom = caf::atom_constant<caf::atom("newserver")>;
using check_atom = caf::atom_constant<caf::atom("check")>;
using account_update_atom = caf::atom_constant<caf::atom("acctupdate")>;
// To the transfer coordinator: start this transaction of many postings; a reversal it handed on
// was answered.
using transact_atom = caf::atom_constant<caf::atom("transact")>;
using reversal_settled_atom = caf::atom_constant<caf::atom("revsettled")>;

}  // namespace wallet::actors
