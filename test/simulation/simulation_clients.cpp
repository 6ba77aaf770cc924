// The clients: the operations they send (money, holds, accounts' rules, transactions), duplicated
// and keyed, and how each is described in the trace.
#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>

#include "test/simulation/deadline_check.hpp"
#include "test/simulation/expiry_check.hpp"
#include "test/simulation/posting_client.hpp"
#include "test/simulation/simulation_internal.hpp"

namespace wallet::simulation {

const std::string& Simulation::any_account() {
  if (chance(3)) return unknown_;
  return accounts_[pick(accounts_.size())];
}

// `payer`: a request paid by (or deposited to) this account (a client retrying as soon as the
// account's partition is served again), neither a duplicate nor aimed at a hold.
void Simulation::send_operation(const std::string* payer) {
  auto op = std::make_shared<ClientOp>();
  op->id = static_cast<int>(ops_.size());
  op->sent_step = step_;
  op->sent_ms = now_ms();
  op->sent_commit = model_->state().commits;
  // A duplicate (same key, usually the same body: a retry; sometimes another body: misuse).
  const ClientOp* original = nullptr;
  if (!payer && !keyed_.empty() && chance(30)) original = ops_[keyed_[pick(keyed_.size())]].get();
  if (original && !chance(15)) {
    op->kind = original->kind;
    op->from = original->from;
    op->to = original->to;
    op->amount = original->amount;
    op->hold_id = original->hold_id;
    op->hold_known = model_->state().holds.count(op->hold_id) > 0;
    if (posts(op->kind)) posting_client_->repeat(*op, *original, model_->state());
  } else if (!payer && !original && options_.account_rules && rules_rng_() % 100 < 20) {
    aim_at_rules(*op);
  } else if (!payer && options_.postings && postings_rng_() % 100 < 40) {
    posting_client_->aim(*op, model_->state());
  } else if (!payer && options_.release2 && chance(options_.expiry ? 45 : 25) &&
             (!model_->state().holds.empty() || chance(10))) {
    aim_at_hold(*op, original);
  } else {
    const int roll = static_cast<int>(pick(100));
    const int mutations = options_.release2 ? 100 : 75;  // withdrawals, holds: opt-in
    op->kind = roll * mutations / 100 < 50   ? ClientOp::Kind::transfer
               : roll * mutations / 100 < 75 ? ClientOp::Kind::deposit
               : roll < 87                   ? ClientOp::Kind::withdraw
                                             : ClientOp::Kind::hold;
    op->from = payer ? *payer : any_account();
    do {
      op->to = accounts_[pick(accounts_.size())];
    } while (op->to == op->from);
    // Beyond one machine: a payee of the other instance (from a generator of its own).
    if (!remote_.empty() && transit_rng_() % 4 == 0) op->to = remote_[transit_rng_() % 2];
    op->amount = static_cast<int64_t>(1 + pick(12)) * 1'000;  // 10.00 .. 120.00
    // Expiry: more holds (their own generator: the seed's other choices stay as they were).
    if (options_.expiry && op->from != unknown_ && expiry_rng_() % 4 == 0) {
      op->kind = ClientOp::Kind::hold;
    }
  }
  if (updates_account(op->kind)) {
    // PATCH /accounts/{id} takes no Idempotency-Key.
  } else if (original && original->kind == op->kind && op->hold_id == original->hold_id) {
    op->tag = actors::IdempotencyTag{original->tag->endpoint, original->tag->key, hash(*op)};
  } else if (chance(50)) {
    const std::string key = "k" + std::to_string(op->id);
    op->tag = actors::IdempotencyTag{tag_endpoint(*op), key, hash(*op)};
    keyed_.push_back(op->id);
  }
  auto reply = [this, op](Reply answer) {
    ++op->replies;
    op->answered_step = step_;
    op->answered_ms = now_ms();
    op->answered_commit = model_->state().commits;
    op->reply = std::move(answer);
    check_hold_refusal(*op);
  };
  note(describe(*op));
  note_duplicate(ops_, *op, now_ms());
  ops_.push_back(op);
  switch (op->kind) {
    case ClientOp::Kind::transfer:
      ledger_->transfer({op->from, op->to, op->amount, op->tag, reply});
      break;
    case ClientOp::Kind::deposit:
      ledger_->deposit({op->from, op->amount, op->tag, reply});
      break;
    case ClientOp::Kind::withdraw:
      ledger_->withdraw({op->from, op->amount, op->tag, reply});
      break;
    case ClientOp::Kind::hold:
      ledger_->create_hold({op->from, op->to, op->amount, hold_timeout_s(), op->tag, reply});
      break;
    case ClientOp::Kind::capture:
      ledger_->capture_hold(op->hold_id,
                            op->amount == 0 ? std::nullopt : std::optional<int64_t>(op->amount),
                            op->tag, reply);
      break;
    case ClientOp::Kind::void_hold:
      ledger_->void_hold(op->hold_id, op->tag, reply);
      break;
    case ClientOp::Kind::transaction:
    case ClientOp::Kind::reversal:
      send_transaction(op, reply, kReversalRechecks);
      break;
    case ClientOp::Kind::set_limit:
    case ClientOp::Kind::freeze:
    case ClientOp::Kind::unfreeze:
    case ClientOp::Kind::close: {
      actors::AccountUpdate update;
      update.account_id = op->from;
      if (auto status = requested_status(op->kind)) {
        update.status = persistence::parse_account_status(*status);
      }
      if (op->kind == ClientOp::Kind::set_limit) update.overdraft_limit = op->amount;
      update.reply = reply;
      ledger_->update_account(std::move(update));
      break;
    }
  }
}

// PATCH /accounts/{id} (from a generator of its own): a new overdraft line (at times one that
// would not cover the account's debt), a freeze, an unfreeze, or a closing (half of them of an
// account at 0, which may pass). Rarely of an account that does not exist.
void Simulation::aim_at_rules(ClientOp& op) {
  const auto roll = rules_rng_() % 100;
  op.kind = roll < 35   ? ClientOp::Kind::set_limit
            : roll < 60 ? ClientOp::Kind::freeze
            : roll < 80 ? ClientOp::Kind::unfreeze
                        : ClientOp::Kind::close;
  op.from = rules_rng_() % 40 == 0 ? unknown_ : accounts_[rules_rng_() % accounts_.size()];
  const auto& balances = model_->state().balances;
  if (op.kind == ClientOp::Kind::close && rules_rng_() % 2 == 0) {
    std::vector<const std::string*> empty;
    for (const auto& user : accounts_) {
      if (balances.at(user) == 0) empty.push_back(&user);
    }
    if (!empty.empty()) op.from = *empty[rules_rng_() % empty.size()];
  }
  if (op.kind != ClientOp::Kind::set_limit) return;
  auto it = balances.find(op.from);
  const int64_t debt = it != balances.end() && it->second < 0 ? -it->second : 0;
  if (debt > 0 && rules_rng_() % 3 == 0) {
    op.amount = std::max<int64_t>(0, debt - static_cast<int64_t>(1 + rules_rng_() % 3) * 1'000);
  } else {
    op.amount = static_cast<int64_t>(rules_rng_() % 21) * 1'000;  // 0 .. 200.00
  }
}

// A capture or a void, of a committed hold (any status; a new duplicate of an earlier close
// when `original` is one) or, rarely, of a hold that does not exist. A capture takes all of the
// hold, or part of it, or (rarely) more than it holds.
void Simulation::aim_at_hold(ClientOp& op, const ClientOp* original) {
  op.kind = chance(60) ? ClientOp::Kind::capture : ClientOp::Kind::void_hold;
  const auto& holds = model_->state().holds;
  if (original &&
      (original->kind == ClientOp::Kind::capture || original->kind == ClientOp::Kind::void_hold)) {
    op.hold_id = original->hold_id;  // the same hold under the same key: another body
  } else if (!holds.empty() && !chance(5)) {
    auto it = holds.begin();
    std::advance(it, static_cast<long>(pick(holds.size())));
    op.hold_id = it->first;
    // Expiry: mostly a hold still pending, to race its expiry and the sweep.
    if (options_.expiry) {
      auto pending = pending_hold(model_->state(), expiry_rng_);
      if (!pending.empty()) op.hold_id = std::move(pending);
    }
  } else {
    op.hold_id = "00000000-0000-4000-8000-00000000dead";
  }
  auto it = holds.find(op.hold_id);
  op.hold_known = it != holds.end();
  if (op.hold_known) {
    op.from = it->second.from_user_id;
    op.to = it->second.to_user_id;
  }
  op.amount = 0;
  if (op.kind == ClientOp::Kind::capture && op.hold_known && chance(50)) {
    op.amount = static_cast<int64_t>(1 + pick(static_cast<uint64_t>(it->second.amount) + 500));
  }
}

// Every attempt keeps the request's deadline, set once when it arrived (as the HTTP layer does).
void Simulation::send_transaction(const std::shared_ptr<ClientOp>& op, actors::ReplyFn reply,
                                  int rechecks, actors::Deadline deadline) {
  if (deadline == actors::kNoDeadline) deadline = ledger_->deadline_from_now();
  if (op->refusal) {
    if (op->tag) return ledger_->refuse(*op->tag, *op->refusal, std::move(reply), deadline);
    return reply(Reply{domain::Refused{*op->refusal}});
  }
  auto command = PostingClient::command(*op);
  command.deadline = deadline;
  command.reply = [this, op, reply = std::move(reply), rechecks, deadline](Reply answer) {
    if (answer.status() != actors::kRecheck) return reply(std::move(answer));
    if (rechecks == 0) {
      return reply(
          actors::error_reply(domain::ErrorCode::unavailable,
                              "reversals of this transaction are racing; nothing changed, retry"));
    }
    posting_client_->read_again(*op, model_->state());
    note("client #" + std::to_string(op->id) + " rechecks: " + describe(*op));
    send_transaction(op, reply, rechecks - 1, deadline);
  };
  ledger_->transact(std::move(command));
}

// Capture and void keys are scoped per hold, as in http/holds_api.cpp.
std::string Simulation::tag_endpoint(const ClientOp& op) {
  if (posts(op.kind)) return PostingClient::tag_endpoint(op);
  if (op.hold_id.empty()) return endpoint(op.kind);
  return "holds/" + op.hold_id + endpoint(op.kind);
}

std::string Simulation::hash(const ClientOp& op) {
  if (posts(op.kind)) return PostingClient::request_hash(op);
  return std::string(endpoint(op.kind)) + "|" + op.from + "|" + op.to + "|" +
         std::to_string(op.amount) + "|" + op.hold_id;
}

std::string Simulation::describe(const ClientOp& op) {
  auto tail = [](const std::string& id) { return id.size() > 24 ? id.substr(24) : id; };
  if (posts(op.kind)) {
    std::string text = "client #" + std::to_string(op.id) + ": " + endpoint(op.kind);
    if (!op.reverses.empty()) {
      text += " of " + op.reverses.substr(0, 8) + " (asked " +
              (op.asked > 0 ? money(op.asked) : std::string("all")) + ", read " +
              std::to_string(op.read_reversed) + " reversed of " + std::to_string(op.reversible) +
              ")";
    }
    for (const auto& p : op.postings) {
      text += " " + tail(p.from) + "->" + tail(p.to) + " " + money(p.amount) + " " + p.currency;
    }
    if (op.refusal) text += " refused by the HTTP layer: " + op.refusal->message;
    if (op.tag) text += " key=" + op.tag->key;
    return text;
  }
  if (updates_account(op.kind)) {
    return "client #" + std::to_string(op.id) + ": " + endpoint(op.kind) + " " + tail(op.from) +
           (op.kind == ClientOp::Kind::set_limit ? " " + money(op.amount) : std::string());
  }
  std::string text = "client #" + std::to_string(op.id) + ": " + endpoint(op.kind) + " " +
                     tail(op.from) + "->" + tail(op.to) + " " + money(op.amount);
  if (!op.hold_id.empty()) text += " hold " + op.hold_id;
  if (op.tag) text += " key=" + op.tag->key;
  return text;
}

int Simulation::unanswered() const {
  int n = 0;
  for (const auto& op : ops_) n += op->replies == 0;
  return n;
}

// A client hold's timeout: 1-3 s with --expiry (crossed by the schedule's time), else an hour.
int64_t Simulation::hold_timeout_s() {
  return options_.expiry ? 1 + static_cast<int64_t>(expiry_rng_() % 3) : 3600;
}

}  // namespace wallet::simulation
