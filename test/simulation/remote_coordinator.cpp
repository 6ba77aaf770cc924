#include "test/simulation/remote_coordinator.hpp"

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "test/simulation/posting_client.hpp"

namespace wallet::simulation {
namespace {

using persistence::TransactionDecision;

std::string tail(const std::string& id) { return id.size() > 24 ? id.substr(24) : id; }

}  // namespace

void RemoteCoordinator::step() {
  const auto roll = pick(100);
  if (roll < 3 && foreign_.size() < 12) return start();
  if (roll >= 12 || foreign_.empty()) return;
  auto& t = *foreign_[pick(foreign_.size())];
  if (!t.decided) {
    // Abort before or while the hold is placed; commit only once it stands; a refusal or an
    // unknown answer decides `abort`.
    if (t.answer == 0) {
      if (chance(8)) decide(t, false);
    } else {
      decide(t, t.answer == 201 && chance(85));
    }
  } else if (t.settle) {
    tell_settle(t);
  } else if (chance(5)) {
    tell_settle(t);  // late, or a second time
  }
}

int RemoteCoordinator::quiesce() {
  int done = 0;
  for (auto& t : foreign_) {
    if (!t->decided && t->answer != 0) {
      decide(*t, t->answer == 201 && chance(85));
      ++done;
    }
    if (t->decided && t->settle) {
      tell_settle(*t);
      ++done;
    }
  }
  return done;
}

bool RemoteCoordinator::busy() const {
  for (const auto& t : foreign_) {
    if (t->answer == 0) return true;
  }
  return false;
}

void RemoteCoordinator::start() {
  auto t = std::make_shared<Foreign>();
  t->transaction_id = domain::new_uuid_v4();
  t->hold_id = domain::new_uuid_v4();
  const auto& payer = payers_[pick(payers_.size())];
  const std::string usd = domain::configured_currencies().default_currency().code;
  auto& shared = other_.model->shared_state();
  // The posting in the payer's currency (now and then not: its owner refuses the hold), to a
  // payee of that currency (as the coordinator checks its payees first).
  const std::string currency = chance(95) ? shared.currency_of(payer) : usd;
  std::vector<const std::string*> payees;
  for (const auto& p : payees_) {
    if (p != payer && shared.currency_of(p) == currency &&
        shared.rules_of(p).status != persistence::AccountStatus::closed) {
      payees.push_back(&p);
    }
  }
  if (payees.empty()) return;
  const std::string payee = *payees[pick(payees.size())];
  const int64_t amount = static_cast<int64_t>(1 + pick(12)) * 1'000;
  actors::Posting held{payer, payee, amount, currency};
  // Half of them with a posting of its own accounts too, before or after the held one.
  if (chance(50) && other_.accounts.size() >= 2) {
    actors::Posting own{other_.accounts[0], other_.accounts[1],
                        static_cast<int64_t>(1 + pick(5)) * 1'000, usd};
    t->held = chance(50) ? 0 : 1;
    t->postings = t->held == 0 ? std::vector<actors::Posting>{held, own}
                               : std::vector<actors::Posting>{own, held};
  } else {
    t->postings = {held};
  }
  ids_.insert(t->transaction_id);
  foreign_.push_back(t);
  other_.note("sim-b coordinates transaction " + t->transaction_id.substr(0, 8) + ": " +
              postings_text(t->postings) + "; asks sim-a to place hold " + t->hold_id.substr(0, 8) +
              " of " + tail(payer));
  actors::HoldCommand command;
  command.from_user_id = payer;
  command.to_user_id = payee;
  command.amount = amount;
  command.account_form = true;
  command.to_owner = payee;
  command.hold_id = t->hold_id;
  command.transaction_id = t->transaction_id;
  command.posting = t->held;
  command.currency = currency;
  // The internal route's deadline: the coordinator's own, which may be longer than this
  // instance's request deadline (its placement waits up to `within`).
  command.deadline = ledger_->deadline_from_now() + std::chrono::seconds(2);
  command.reply = [this, t](actors::Reply reply) {
    other_.note("sim-a answers the placement of hold " + t->hold_id.substr(0, 8) + ": " +
                std::to_string(reply.status()) + " " + reply.body().substr(0, 120));
    t->answer = reply.status();
  };
  ledger_->create_hold(std::move(command));
}

// As the coordinator decides: `commit` is its commit of the transaction's record (with its own
// posting's rows), refused as a whole when `abort` was recorded first (WL010); `abort` is
// LedgerBackend::decide's (recorded unless a decision stands).
void RemoteCoordinator::decide(Foreign& t, bool commit) {
  t.decided = true;
  t.settle = chance(60);
  auto& shared = other_.model->shared_state();
  if (commit) {
    persistence::LedgerMutation mutation;
    persistence::TransactionRecord record;
    record.transaction_id = t.transaction_id;
    record.postings = postings_text(t.postings);
    record.created_at = "2026-12-06T00:00:00.000Z";
    record.decides = true;
    mutation.transactions.push_back(std::move(record));
    std::map<std::string, int64_t> balances;
    for (size_t i = 0; i < t.postings.size(); ++i) {
      const auto& p = t.postings[i];
      if (static_cast<int>(i) == t.held) continue;
      for (const auto& [account, change] : {std::pair{p.from, -p.amount}, {p.to, p.amount}}) {
        auto it = balances.try_emplace(account, shared.balances.at(account)).first;
        persistence::LedgerEntry row{domain::new_uuid_v4(),
                                     account,
                                     change,
                                     it->second,
                                     it->second + change,
                                     change < 0 ? persistence::EntryKind::posting_debit
                                                : persistence::EntryKind::posting_credit,
                                     ""};
        row.transaction_id = t.transaction_id;
        row.posting = static_cast<int>(i);
        it->second += change;
        mutation.entries.push_back(row);
      }
    }
    std::string why;
    const auto status = other_.commit(mutation, &why);
    if (status == persistence::ApplyStatus::committed) {
      other_.note("sim-b commits transaction " + t.transaction_id.substr(0, 8) + " (decided)");
      return;
    }
    other_.note("sim-b's commit of transaction " + t.transaction_id.substr(0, 8) +
                " is refused: " + why + "; it decides abort");
  }
  shared.decisions.emplace(t.transaction_id, TransactionDecision::abort);
  other_.note("sim-b decides abort for transaction " + t.transaction_id.substr(0, 8) + " (" +
              (t.answer == 0 ? std::string("its hold not answered yet")
                             : "its hold answered " + std::to_string(t.answer)) +
              ")");
}

void RemoteCoordinator::tell_settle(Foreign& t) {
  t.settle = false;
  other_.note("sim-b tells sim-a to settle hold " + t.hold_id.substr(0, 8));
  ledger_->settle_transaction_hold(t.hold_id, false, [this, id = t.hold_id](bool settled) {
    other_.note("sim-a's settle of hold " + id.substr(0, 8) + (settled ? ": settled" : ": not"));
  });
}

}  // namespace wallet::simulation
