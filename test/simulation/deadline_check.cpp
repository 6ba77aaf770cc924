#include "test/simulation/deadline_check.hpp"

#include <algorithm>

namespace wallet::simulation {

using persistence::EntryKind;

bool carries(const persistence::LedgerMutation& m, const ClientOp& op) {
  if (op.tag) {
    return m.outcome && m.outcome->endpoint == op.tag->endpoint && m.outcome->key == op.tag->key;
  }
  if (m.outcome) return false;
  auto has_entry = [&m](EntryKind kind, const std::string& user, int64_t change) {
    return std::any_of(m.entries.begin(), m.entries.end(), [&](const auto& e) {
      return e.kind == kind && e.user_id == user && e.change == change;
    });
  };
  auto closes = [&m, &op](const char* status) {
    return std::any_of(m.hold_changes.begin(), m.hold_changes.end(), [&](const auto& c) {
      return c.hold_id == op.hold_id && c.status == status;
    });
  };
  switch (op.kind) {
    case ClientOp::Kind::deposit:
      return has_entry(EntryKind::deposit, op.from, op.amount);
    case ClientOp::Kind::withdraw:
      return has_entry(EntryKind::withdrawal, op.from, -op.amount);
    case ClientOp::Kind::transfer:
      return m.hold_changes.empty() && has_entry(EntryKind::transfer_debit, op.from, -op.amount);
    case ClientOp::Kind::hold:
      return std::any_of(m.new_holds.begin(), m.new_holds.end(), [&op](const auto& h) {
        return h.from_user_id == op.from && h.to_user_id == op.to && h.amount == op.amount;
      });
    case ClientOp::Kind::capture:
      return closes("captured");
    case ClientOp::Kind::void_hold:
      return closes("voided");
    case ClientOp::Kind::transaction:
    case ClientOp::Kind::reversal:
      return std::any_of(m.transactions.begin(), m.transactions.end(), [&op](const auto& t) {
        return t.postings == op.postings_json && t.reverses == op.reverses;
      });
    case ClientOp::Kind::set_limit:
    case ClientOp::Kind::freeze:
    case ClientOp::Kind::unfreeze:
    case ClientOp::Kind::close:
      return std::any_of(m.account_changes.begin(), m.account_changes.end(), [&op](const auto& c) {
        return c.account_id == op.from && c.status == requested_status(op.kind) &&
               c.overdraft_limit == requested_limit(op);
      });
  }
  return false;
}

void note_handover(const std::vector<std::shared_ptr<ClientOp>>& ops,
                   const persistence::LedgerMutation& mutation, int64_t now_ms) {
  for (const auto& op : ops) {
    if (op->replies > 0 || op->handed_ms >= 0 || !carries(mutation, *op)) continue;
    op->handed_ms = now_ms;
  }
}

void note_duplicate(const std::vector<std::shared_ptr<ClientOp>>& ops, ClientOp& op,
                    int64_t now_ms) {
  if (!op.tag) return;
  for (const auto& other : ops) {
    if (other->replies == 0 && other->handed_ms >= 0 && other->tag &&
        other->tag->endpoint == op.tag->endpoint && other->tag->key == op.tag->key &&
        other->tag->request_hash == op.tag->request_hash) {
      op.handed_ms = now_ms;
      return;
    }
  }
}

void note_overdue(const std::vector<std::shared_ptr<ClientOp>>& ops, int64_t deadline_ms,
                  int64_t now_ms) {
  const int64_t bound_ms = deadline_ms + kDeadlineSlackMs;
  for (const auto& op : ops) {
    if (op->replies > 0 || op->overdue_at_ms >= 0 || now_ms - op->sent_ms <= bound_ms) continue;
    if (op->handed_ms >= 0 && op->handed_ms - op->sent_ms <= bound_ms) continue;
    op->overdue_at_ms = now_ms;
  }
}

std::vector<std::string> check_deadlines(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                         int64_t deadline_ms) {
  std::vector<std::string> failures;
  for (const auto& op : ops) {
    if (op->overdue_at_ms < 0) continue;
    const std::string answered =
        op->replies == 0 ? "never answered"
                         : "answered " + std::to_string(op->reply.status()) + " after " +
                               std::to_string(op->answered_ms - op->sent_ms) + " ms";
    failures.push_back(
        "deadline: client #" + std::to_string(op->id) + " (" + endpoint(op->kind) +
        (op->tag ? " key=" + op->tag->key : std::string()) + ") was still waiting " +
        std::to_string(op->overdue_at_ms - op->sent_ms) + " ms after it was sent (deadline " +
        std::to_string(deadline_ms) + " ms + " + std::to_string(kDeadlineSlackMs) +
        " ms slack) with nothing of it at the writer" +
        (op->handed_ms < 0
             ? ""
             : " (it got there at +" + std::to_string(op->handed_ms - op->sent_ms) + " ms)") +
        "; " + answered);
  }
  return failures;
}

}  // namespace wallet::simulation
