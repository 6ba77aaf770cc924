// ClientOp: one request a simulated client sent, when (on the virtual clock), and what it was
// told; what the simulation's checkers read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "actors/ledger_messages.hpp"
#include "persistence/ledger_types.hpp"

namespace wallet::simulation {

struct ClientOp {
  enum class Kind { deposit, transfer, withdraw, hold, capture, void_hold };
  int id = 0;
  Kind kind = Kind::deposit;
  std::string from;  // payer (transfer, hold, capture) or account (deposit, withdrawal)
  std::string to;
  int64_t amount = 0;       // a capture's 0: all of the hold
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
};

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
  }
  return "";
}

}  // namespace wallet::simulation
