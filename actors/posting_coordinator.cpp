// Transactions of many postings (SPEC.md section 8), coordinated by the transfer coordinator's
// actor with the transfer protocol generalized from two accounts to N:
//  1. every account the postings name (not @world, which has no actor) is reserved one after the
//     other in account_id order, the one global lock order of every coordinator, so no two
//     transactions (or a transaction and a transfer) wait on each other; each reservation checks
//     the account's net change over the whole transaction against its rules (available balance,
//     overdraft line, frozen for an account that pays in any posting, closed, balance limit) and
//     applies it in memory, locking the account;
//  2. with every account reserved, the rows of every posting (chained per account from the balance
//     its reservation started at), the transaction's record and its idempotency outcome go to the
//     LedgerWriter as one mutation, so one commit applies all of them or none; then every account
//     is released;
//  3. a refusal (or the deadline) at any account releases those reserved so far unchanged: no
//     posting applies.
// Across owners (SPEC.md section 7) the instance serving the transaction's first payer coordinates
// it; a payee another instance serves is not reserved here: its credit leaves in transit, committed
// with the debits, and its owner applies it later exactly once (as a transfer's credit). A payer
// another instance serves pays through a hold its owner placed first (Ledger::transact,
// actors/transaction_holds.cpp): its postings are left out here, and this commit, which records
// the decision `commit`, is what makes their owners capture those holds.
#include <algorithm>
#include <chrono>
#include <map>

#include "actors/ledger_outcomes.hpp"
#include "actors/transfer_coordinator.hpp"
#include "domain/ids.hpp"
#include "domain/time_text.hpp"

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<CoordinatorState>*;

bool is_world(const std::string& side) { return side == kWorld; }

// Across owners: a posting whose payer another instance serves is applied by the capture of the
// hold placed for it there (both its rows), never here.
bool held_elsewhere(const TransactionCommand& command, size_t index) {
  return std::any_of(command.held.begin(), command.held.end(),
                     [index](const auto& h) { return h.posting == static_cast<int>(index); });
}

void request_account(Self self, const std::string& transaction_id, const PostingsState& t) {
  const auto& account = t.accounts[t.legs.size()];
  ReserveRequest request{transaction_id,
                         account.account_id,
                         account.net < 0 ? LegRole::debit : LegRole::credit,
                         account.net < 0 ? -account.net : account.net,
                         caf::actor_cast<caf::actor>(self),
                         t.command.deadline};
  request.account_form = true;
  request.pays = account.pays;
  self->send(self->state.registry, reserve_atom::value, std::move(request));
}

void release_all(Self self, const std::string& transaction_id, const PostingsState& t,
                 bool submitted) {
  for (const auto& leg : t.legs) {
    self->send(leg.account, release_atom::value, transaction_id, submitted);
  }
}

// The account whose currency differs from a posting's, if any (the HTTP layer checks first; this
// is the actors' own guard).
std::optional<domain::Error> currency_refusal(const PostingsState& t) {
  std::map<std::string, const std::string*> currency;
  for (const auto& leg : t.legs) currency.emplace(leg.user_id, &leg.currency);
  for (size_t i = 0; i < t.command.postings.size(); ++i) {
    const auto& posting = t.command.postings[i];
    if (held_elsewhere(t.command, i)) continue;
    for (const auto* side : {&posting.from, &posting.to}) {
      if (is_world(*side) || t.command.foreign.count(*side)) continue;
      if (*currency.at(*side) != posting.currency) {
        return domain::Error{domain::ErrorCode::currency_mismatch,
                             "account " + *side + " does not hold " + posting.currency, *side};
      }
    }
  }
  return std::nullopt;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every posting's rows, in posting order (debit row first), each account's chained from the
// balance its reservation started at; the last row of each account ends at the balance its
// reservation reached.
std::vector<persistence::LedgerEntry> posting_rows(const std::string& transaction_id,
                                                   const PostingsState& t) {
  std::map<std::string, const LegReservation*> legs;
  std::map<std::string, int64_t> running;
  for (const auto& leg : t.legs) {
    legs.emplace(leg.user_id, &leg);
    running.emplace(leg.user_id, leg.entry.old_balance);
  }
  using persistence::EntryKind;
  std::vector<persistence::LedgerEntry> rows;
  auto row = [&](const std::string& account, int64_t change, EntryKind kind, int index) {
    auto& balance = running.at(account);
    persistence::LedgerEntry entry;
    entry.id = domain::new_uuid_v4();
    entry.user_id = account;
    entry.change = change;
    entry.old_balance = balance;
    entry.new_balance = balance + change;
    entry.kind = kind;
    entry.exponent = legs.at(account)->entry.exponent;
    entry.transaction_id = transaction_id;
    entry.posting = index;
    balance = entry.new_balance;
    rows.push_back(std::move(entry));
  };
  for (size_t i = 0; i < t.command.postings.size(); ++i) {
    const auto& p = t.command.postings[i];
    const int index = static_cast<int>(i);
    if (held_elsewhere(t.command, i)) continue;
    if (!is_world(p.from)) {
      row(p.from, -p.amount, is_world(p.to) ? EntryKind::withdrawal : EntryKind::posting_debit,
          index);
    }
    if (!is_world(p.to) && !t.command.foreign.count(p.to)) {
      row(p.to, p.amount, is_world(p.from) ? EntryKind::deposit : EntryKind::posting_credit, index);
    }
  }
  return rows;
}

// Beyond one machine: the credits of postings whose payee another instance serves leave in
// transit, each with an in-transit row of its own committed with the debits (its owner writes the
// credit row later, once, deleting that row), as a cross-owner transfer's credit does.
std::vector<persistence::InTransit> departures(const std::string& transaction_id,
                                               const PostingsState& t) {
  std::map<std::string, int> exponents;
  for (const auto& leg : t.legs) exponents.emplace(leg.user_id, leg.entry.exponent);
  std::vector<persistence::InTransit> out;
  for (size_t i = 0; i < t.command.postings.size(); ++i) {
    const auto& p = t.command.postings[i];
    auto foreign = t.command.foreign.find(p.to);
    if (foreign == t.command.foreign.end() || held_elsewhere(t.command, i)) continue;
    persistence::InTransit leg;
    leg.transfer_id = domain::new_uuid_v4();  // the in-transit row's own id
    leg.from_user_id = p.from;                // a payer this instance serves (never @world)
    leg.to_user_id = p.to;
    leg.amount = p.amount;
    leg.to_partition = foreign->second;
    leg.exponent = exponents.at(p.from);
    leg.transaction_id = transaction_id;
    leg.posting = static_cast<int>(i);
    out.push_back(std::move(leg));
  }
  return out;
}

void commit(Self self, const std::string& transaction_id, PostingsState& t) {
  auto& cmd = t.command;
  const std::string created_at = domain::format_epoch_us(now_us());
  WriteRequest request;
  for (const auto& leg : t.legs)
    request.participants.emplace_back(leg.account, leg.entry.new_balance);
  request.mutation.entries = posting_rows(transaction_id, t);
  request.mutation.departures = departures(transaction_id, t);
  persistence::TransactionRecord record;
  record.transaction_id = transaction_id;
  record.postings = cmd.postings_json;
  record.metadata = cmd.metadata;
  record.reference = cmd.reference;
  record.created_at = created_at;
  record.reverses = cmd.reverses;
  record.reversible = cmd.reversible;
  record.reversed_now = cmd.reversed_now;
  record.exponent = cmd.reversal_exponent;
  record.decides = !cmd.held.empty();  // across owners: this commit decides it
  request.mutation.transactions.push_back(std::move(record));
  request.on_commit = Reply{domain::Encoded{201, cmd.render(transaction_id, created_at)}};
  request.mutation.outcome = outcome_for(cmd.tag, request.on_commit);
  request.reply = std::move(cmd.reply);
#ifdef WALLET_PROTOCOL_BUG_PARTIAL_TRANSACTION  // negative control (test-only): last account apart
  if (!t.legs.empty()) {
    WriteRequest apart;  // the last account's rows, in a commit of their own
    const std::string& last = t.legs.back().user_id;
    apart.participants.push_back(request.participants.back());
    request.participants.pop_back();
    auto& rows = request.mutation.entries;
    auto split = std::stable_partition(rows.begin(), rows.end(),
                                       [&](const auto& e) { return e.user_id != last; });
    apart.mutation.entries.assign(std::make_move_iterator(split),
                                  std::make_move_iterator(rows.end()));
    rows.erase(split, rows.end());
    apart.on_commit = Reply{domain::Encoded{201, ""}};
    apart.reply = [](Reply) {};
    self->send(self->state.writer, submit_atom::value, std::move(request));
    request = std::move(apart);
  }
#endif
  // As a transfer's: the writer holds the mutation before any of its accounts is released.
  self->send(self->state.writer, submit_atom::value, std::move(request));
  release_all(self, transaction_id, t, true);
}

// Racing reversals of one transaction, within this instance: one that could reverse more than is
// left (what was reversed when it was decided, plus what is in flight here) waits until those in
// flight are answered, then is answered kRecheck and decided anew on a fresh read; so an
// over-reversal rarely reaches Postgres (whose guard, WL009, stays the last word across
// instances), and never fails the commits of unrelated work built on it. False: it waits.
bool admit_reversal(Self self, TransactionCommand& command) {
  auto& r = self->state.reversals[command.reverses];
  if (r.in_flight > 0 &&
      command.reversed_at_read + r.in_flight + command.reversed_now > command.reversible) {
    // It waits at most until its deadline, then is answered `timeout` (it never reached the
    // writer: nothing changed), however long those in flight take.
    if (command.deadline != kNoDeadline) {
      using std::chrono::milliseconds;
      const auto left =
          std::chrono::duration_cast<milliseconds>(command.deadline - self->clock().now());
      self->delayed_send(self, std::max(left + milliseconds(1), milliseconds(1)),
                         reversal_settled_atom::value, command.reverses, int64_t{0});
    }
    r.waiting.push_back(std::move(command));
    return false;
  }
  r.in_flight += command.reversed_now;
  command.reply = [me = caf::actor_cast<caf::actor>(self), original = command.reverses,
                   amount = command.reversed_now, done = std::move(command.reply)](Reply reply) {
    caf::anon_send(me, reversal_settled_atom::value, original, amount);
    done(std::move(reply));
  };
  return true;
}

}  // namespace

void reversal_settled(Self self, const std::string& original, int64_t amount) {
  auto it = self->state.reversals.find(original);
  if (it == self->state.reversals.end()) return;
  auto& r = it->second;
  r.in_flight -= amount;  // 0: the deadline of a reversal waiting here came
  std::vector<TransactionCommand> late, released;
  const auto now = self->clock().now();
  for (auto& command : r.waiting) {
    (command.deadline < now ? late : released).push_back(std::move(command));
  }
  r.waiting.clear();
  if (r.in_flight > 0) {
    r.waiting.swap(released);  // still waiting
  } else {
    self->state.reversals.erase(it);
  }
  for (auto& command : late) command.reply(timeout_reply());
  for (auto& command : released) command.reply(Reply{domain::Encoded{kRecheck, ""}});
}

void start_transaction(Self self, TransactionCommand& command) {
  if (!command.reverses.empty() && !admit_reversal(self, command)) return;
  std::string transaction_id =
      command.transaction_id.empty() ? domain::new_uuid_v4() : command.transaction_id;
  auto [it, fresh] = self->state.transactions.try_emplace(transaction_id);
  if (!fresh) {
    command.reply(error_reply(domain::ErrorCode::unavailable,
                              "this transaction is already being applied, retry later"));
    return;
  }
  auto& t = it->second;
  t.command = std::move(command);
  std::map<std::string, PostingsState::Account> accounts;
  for (size_t i = 0; i < t.command.postings.size(); ++i) {
    const auto& p = t.command.postings[i];
    if (held_elsewhere(t.command, i)) continue;
    if (!is_world(p.from) && !t.command.foreign.count(p.from)) {
      auto& a = accounts[p.from];
      a.account_id = p.from;
      a.net -= p.amount;
      a.pays = true;
    }
    if (!is_world(p.to) && !t.command.foreign.count(p.to)) {
      auto& a = accounts[p.to];
      a.account_id = p.to;
      a.net += p.amount;
    }
  }
  for (auto& [id, account] : accounts) t.accounts.push_back(std::move(account));
  if (t.accounts.empty() && !t.command.held.empty()) {
    // Every payer is served elsewhere: the commit is the decision alone (with the record).
    if (self->clock().now() > t.command.deadline) {
      t.command.reply(timeout_reply());
    } else {
      commit(self, it->first, t);
    }
    self->state.transactions.erase(it);
    return;
  }
  if (t.accounts.empty()) {  // only @world or foreign payees: Ledger::transact refuses it first
    t.command.reply(error_reply(domain::ErrorCode::invalid_account_id,
                                "a transaction must name an account this instance serves"));
    self->state.transactions.erase(it);
    return;
  }
  request_account(self, it->first, t);
}

bool take_transaction_leg(Self self, LegReservation& leg) {
  auto& transactions = self->state.transactions;
  auto it = transactions.find(leg.transfer_id);
  if (it == transactions.end()) return false;
  auto& t = it->second;
  const std::string& transaction_id = it->first;
  if (leg.refusal) {
    release_all(self, transaction_id, t, false);
    auto refusal = std::move(*leg.refusal);
    if (refusal.account_id.empty()) refusal.account_id = leg.user_id;
    if (refusal.code == domain::ErrorCode::user_not_found) {
      refusal = {domain::ErrorCode::account_not_found, "no account " + leg.user_id, leg.user_id};
    }
    reject(self, self->state.writer, t.command.tag, refusal, t.command.reply, t.command.deadline);
    transactions.erase(it);
    return true;
  }
  t.legs.push_back(std::move(leg));
  if (t.legs.size() < t.accounts.size()) {
    request_account(self, transaction_id, t);
    return true;
  }
  if (auto mismatch = currency_refusal(t)) {
    release_all(self, transaction_id, t, false);
    t.command.reply(Reply{domain::Refused{*mismatch}});
  } else if (self->clock().now() > t.command.deadline) {
    // Not handed to the writer: every reservation is undone, nothing changed.
    release_all(self, transaction_id, t, false);
    t.command.reply(timeout_reply());
  } else {
    commit(self, transaction_id, t);
  }
  transactions.erase(it);
  return true;
}

}  // namespace wallet::actors
