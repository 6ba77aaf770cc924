// ReadsClient: clients of the simulation's --reads schedules that read through the real
// actors::Ledger (history pages, balances now and in the past, an account's rows, the queries,
// the ledger's totals, the transfers in transit, the partitions) at random moments among the
// money operations, under the store's faults. Its generator is its own, so the seed's other
// choices stay what they are without it. What each read was told is checked by reads_check.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/ledger.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// A row as a history page or a page of an account's rows shows it.
struct ReadRow {
  std::string id;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
};

struct ReadOp {
  enum class Kind {
    history,
    account_rows,
    balance_now,
    balance_past,
    find_transactions,
    totals,
    in_transit,
    partitions
  };
  int id = 0;
  Kind kind = Kind::history;
  std::string account;  // history, account_rows, balances, find_transactions
  int limit = 0;        // history, account_rows, in_transit
  int64_t before = 0;   // history, account_rows: the cursor (0: from the newest)
  int64_t at_ms = 0;    // balance_past: the instant (virtual ms; before the read was sent)
  int sent_step = 0;
  uint64_t sent_commit = 0;  // ModelState::commits when sent, and when answered
  uint64_t answered_commit = 0;
  int answered_step = -1;
  int replies = 0;
  std::optional<domain::Error> error;  // answered with an error (the store's fault): no check
  bool missing = false;                // answered "no such account"
  // What it was told, by kind.
  std::vector<ReadRow> rows;
  int64_t next_before = 0;
  int64_t balance = 0;
  std::vector<persistence::CurrencyTotals> totals;
  std::map<std::string, int64_t> in_transit_then;  // the model's, per currency, when answered
  persistence::InTransitSummary in_transit;
  std::vector<persistence::PartitionOwner> partitions;
};

const char* read_name(ReadOp::Kind kind);
std::string describe(const ReadOp& read);

class ReadsClient {
 public:
  // `accounts`: those read (every account of the schedule); `step` and `now_ms`: the schedule's
  // step and virtual clock; `note`: its trace. The model's initial balances are taken now.
  ReadsClient(uint64_t seed, actors::Ledger& ledger, std::shared_ptr<ModelLedger> model,
              std::vector<std::string> accounts, std::function<int()> step,
              std::function<int64_t()> now_ms, std::function<void(std::string)> note);

  // Once per faulty step: sometimes sends one read (at most kReadsMax per schedule).
  void step();

  const std::vector<std::shared_ptr<ReadOp>>& reads() const { return reads_; }
  const std::map<std::string, int64_t>& initial_balances() const { return initial_; }

  static constexpr int kReadsMax = 40;
  static constexpr int kSendPercent = 8;

 private:
  void send(ReadOp::Kind kind);
  void send_history(const std::shared_ptr<ReadOp>& read);
  // The answer's bookkeeping: replies, when, and the error if any (true: an answer to check).
  bool answered(ReadOp& read, const std::optional<domain::Error>& error);
  // A cursor into the account's rows: 0 (from the newest) or a seq it has (or one past).
  int64_t cursor(const std::string& account);
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  std::mt19937_64 rng_;
  actors::Ledger& ledger_;
  std::shared_ptr<ModelLedger> model_;
  std::vector<std::string> accounts_;
  std::function<int()> step_;
  std::function<int64_t()> now_ms_;
  std::function<void(std::string)> note_;
  std::map<std::string, int64_t> initial_;
  std::vector<std::shared_ptr<ReadOp>> reads_;
};

}  // namespace wallet::simulation
