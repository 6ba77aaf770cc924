// ClientOp: one request a simulated client sent, when (on the virtual clock), and what it was
// told; what the simulation's checkers read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::simulation {

struct ClientOp {
  // set_limit..close are PATCH /accounts/{id}: a new overdraft line, status frozen, open, closed;
  // transaction and reversal are POST /transactions and POST /transactions/{id}/reverse.
  enum class Kind {
    deposit,
    transfer,
    withdraw,
    hold,
    capture,
    void_hold,
    set_limit,
    freeze,
    unfreeze,
    close,
    transaction,
    reversal
  };
  int id = 0;
  Kind kind = Kind::deposit;
  // payer (transfer, hold, capture), account (deposit, withdrawal), or the account updated
  std::string from;
  std::string to;
  int64_t amount = 0;       // a capture's 0: all of the hold; set_limit's new line
  std::string hold_id;      // capture, void
  bool hold_known = false;  // the hold was committed when the request was sent
  std::optional<actors::IdempotencyTag> tag;
  int sent_step = 0;
  int answered_step = -1;
  int replies = 0;
  actors::Reply reply;
  // Virtual times (ms, the test coordinator's clock): sent, answered, and the first moment a
  // mutation carrying its effect reached the writer (-1: never; see carries()).
  int64_t sent_ms = 0;
  int64_t answered_ms = -1;
  int64_t handed_ms = -1;
  // The first quiet moment (deadline_check.hpp) at which it was overdue: unanswered past its
  // deadline plus the slack with nothing of it at the writer (-1: never).
  int64_t overdue_at_ms = -1;
  // The model's commits (ModelState::commits) when it was sent and when it was answered: what
  // Postgres held meanwhile is what a refusal may be decided on.
  uint64_t sent_commit = 0;
  uint64_t answered_commit = 0;
  // Transactions of many postings (transaction, reversal): the postings as the HTTP layer hands
  // them to the Ledger (a reversal's: the original's inverted, of the amount it reverses) and
  // their JSON text. A reversal names the transaction it reverses, the amount the client asked
  // for (0: all that is left), what the HTTP layer read as reversed already, and what it
  // computed: the amount reversible in all and reversed now (TransactionCommand's fields), or the
  // refusal it answers itself (409 already_reversed, through the key's gate when keyed).
  std::vector<actors::Posting> postings = {};
  std::string postings_json = {};
  std::string reverses = {};
  int64_t asked = 0;
  int64_t read_reversed = 0;
  int64_t reversible = 0;
  int64_t reversed_now = 0;
  int reversal_exponent = 0;
  std::optional<domain::Error> refusal = {};
};

inline bool posts(ClientOp::Kind kind) {
  return kind == ClientOp::Kind::transaction || kind == ClientOp::Kind::reversal;
}

inline bool updates_account(ClientOp::Kind kind) {
  return kind == ClientOp::Kind::set_limit || kind == ClientOp::Kind::freeze ||
         kind == ClientOp::Kind::unfreeze || kind == ClientOp::Kind::close;
}

// The AccountChange an account update commits: its status, and its line (a closing sets the line
// to 0: update_account's "its line goes with it").
inline std::optional<std::string> requested_status(ClientOp::Kind kind) {
  switch (kind) {
    case ClientOp::Kind::freeze:
      return "frozen";
    case ClientOp::Kind::unfreeze:
      return "open";
    case ClientOp::Kind::close:
      return "closed";
    default:
      return std::nullopt;
  }
}
inline std::optional<int64_t> requested_limit(const ClientOp& op) {
  if (op.kind == ClientOp::Kind::set_limit) return op.amount;
  if (op.kind == ClientOp::Kind::close) return 0;
  return std::nullopt;
}

inline const char* endpoint(ClientOp::Kind kind) {
  switch (kind) {
    case ClientOp::Kind::transfer:
      return "/transferMoney";
    case ClientOp::Kind::deposit:
      return "/addMoney";
    case ClientOp::Kind::withdraw:
      return "/withdrawMoney";
    case ClientOp::Kind::hold:
      return "/holds";
    case ClientOp::Kind::capture:
      return "/capture";
    case ClientOp::Kind::void_hold:
      return "/void";
    case ClientOp::Kind::set_limit:
      return "PATCH overdraft_limit";
    case ClientOp::Kind::freeze:
      return "PATCH frozen";
    case ClientOp::Kind::unfreeze:
      return "PATCH open";
    case ClientOp::Kind::close:
      return "PATCH closed";
    case ClientOp::Kind::transaction:
      return "/transactions";
    case ClientOp::Kind::reversal:
      return "/reverse";
  }
  return "";
}

}  // namespace wallet::simulation
