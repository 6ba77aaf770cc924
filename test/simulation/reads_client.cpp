#include "test/simulation/reads_client.hpp"

namespace wallet::simulation {

namespace {

// How often each read is sent, out of 100: history pages most (read-your-writes), then the rest.
constexpr struct {
  ReadOp::Kind kind;
  int weight;
} kMix[] = {{ReadOp::Kind::history, 34},          {ReadOp::Kind::account_rows, 12},
            {ReadOp::Kind::balance_now, 10},      {ReadOp::Kind::balance_past, 14},
            {ReadOp::Kind::find_transactions, 4}, {ReadOp::Kind::totals, 10},
            {ReadOp::Kind::in_transit, 10},       {ReadOp::Kind::partitions, 6}};

std::vector<ReadRow> rows_of(const std::vector<persistence::HistoryRow>& rows) {
  std::vector<ReadRow> out;
  for (const auto& r : rows) out.push_back({r.id, r.change, r.old_balance, r.new_balance});
  return out;
}

std::vector<ReadRow> rows_of(const std::vector<persistence::AccountRow>& rows) {
  std::vector<ReadRow> out;
  for (const auto& r : rows) out.push_back({r.id, r.change, r.old_balance, r.new_balance});
  return out;
}

}  // namespace

const char* read_name(ReadOp::Kind kind) {
  switch (kind) {
    case ReadOp::Kind::history:
      return "history";
    case ReadOp::Kind::account_rows:
      return "account rows";
    case ReadOp::Kind::balance_now:
      return "balance now";
    case ReadOp::Kind::balance_past:
      return "balance at";
    case ReadOp::Kind::find_transactions:
      return "find transactions";
    case ReadOp::Kind::totals:
      return "ledger totals";
    case ReadOp::Kind::in_transit:
      return "in transit";
    case ReadOp::Kind::partitions:
      return "partitions";
  }
  return "";
}

std::string describe(const ReadOp& read) {
  std::string text = "read #" + std::to_string(read.id) + " (" + read_name(read.kind);
  if (!read.account.empty()) text += " of " + read.account.substr(24);
  if (read.limit > 0) text += " limit " + std::to_string(read.limit);
  if (read.before > 0) text += " before " + std::to_string(read.before);
  if (read.kind == ReadOp::Kind::balance_past) text += " at " + std::to_string(read.at_ms) + " ms";
  return text + ", sent at step " + std::to_string(read.sent_step) + ", commit " +
         std::to_string(read.sent_commit) + ")";
}

ReadsClient::ReadsClient(uint64_t seed, actors::Ledger& ledger, std::shared_ptr<ModelLedger> model,
                         std::vector<std::string> accounts, std::function<int()> step,
                         std::function<int64_t()> now_ms, std::function<void(std::string)> note)
    : rng_(seed ^ 0x7265616473ULL),
      ledger_(ledger),
      model_(std::move(model)),
      accounts_(std::move(accounts)),
      step_(std::move(step)),
      now_ms_(std::move(now_ms)),
      note_(std::move(note)),
      initial_(model_->state().balances) {}

void ReadsClient::step() {
  if (static_cast<int>(reads_.size()) >= kReadsMax) return;
  if (static_cast<int>(pick(100)) >= kSendPercent) return;
  int roll = static_cast<int>(pick(100));
  for (const auto& entry : kMix) {
    if (roll < entry.weight) return send(entry.kind);
    roll -= entry.weight;
  }
}

bool ReadsClient::answered(ReadOp& read, const std::optional<domain::Error>& error) {
  ++read.replies;
  read.answered_step = step_();
  read.answered_commit = model_->state().commits;
  read.error = error;
  note_("answer to " + describe(read) + ": " + (error ? error->message : std::string("ok")));
  return !error;
}

int64_t ReadsClient::cursor(const std::string& account) {
  if (pick(2) == 0) return 0;
  std::vector<uint64_t> seqs;
  for (const auto& row : model_->state().rows) {
    if (row.entry.user_id == account) seqs.push_back(row.seq);
  }
  if (seqs.empty()) return 0;
  return static_cast<int64_t>(seqs[pick(seqs.size())] + pick(2));
}

void ReadsClient::send(ReadOp::Kind kind) {
  auto read = std::make_shared<ReadOp>();
  read->id = static_cast<int>(reads_.size());
  read->kind = kind;
  read->sent_step = step_();
  read->sent_commit = model_->state().commits;
  read->account = accounts_[pick(accounts_.size())];
  reads_.push_back(read);
  using Kind = ReadOp::Kind;
  switch (kind) {
    case Kind::history:
      return send_history(read);
    case Kind::account_rows: {
      read->limit = pick(3) == 0 ? 3 : 200;
      read->before = cursor(read->account);
      note_("send " + describe(*read));
      actors::AccountRowsQuery query{read->account, {}, read->limit, read->before};
      return ledger_.account_rows(std::move(query), [this, read](auto result) {
        if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
        read->missing = !result.value();
        if (!read->missing) {
          read->rows = rows_of(result.value()->rows);
          read->next_before = result.value()->next_before;
        }
      });
    }
    case Kind::balance_now:
    case Kind::balance_past: {
      std::optional<int64_t> at_us;
      if (kind == Kind::balance_past) {
        // An instant before this one: every row it covers committed before the read was sent.
        read->at_ms = now_ms_() - 1 - static_cast<int64_t>(pick(1'500));
        at_us = read->at_ms * 1'000;
      }
      note_("send " + describe(*read));
      return ledger_.balance_at(read->account, at_us, [this, read](auto result) {
        if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
        read->missing = !result.value();
        if (!read->missing) read->balance = result.value()->balance;
      });
    }
    case Kind::find_transactions: {
      note_("send " + describe(*read));
      actors::TransactionQuery query;
      query.account_id = read->account;
      return ledger_.find_transactions(std::move(query), [this, read](auto result) {
        answered(*read, result ? std::nullopt : std::optional(result.error()));
      });
    }
    case Kind::totals:
      read->account.clear();
      note_("send " + describe(*read));
      return ledger_.totals(false, [this, read](auto result) {
        if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
        read->totals = result.value();
        const ModelState& state = model_->state();
        for (const auto& [id, leg] : state.in_transit) {
          read->in_transit_then[state.currency_of(leg.from_user_id)] += leg.amount;
        }
      });
    case Kind::in_transit:
      read->account.clear();
      read->limit = 100;  // more than a schedule ever has in transit: every one is listed
      note_("send " + describe(*read));
      return ledger_.in_transit(read->limit, [this, read](auto result) {
        if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
        read->in_transit = result.value();
      });
    case Kind::partitions:
      read->account.clear();
      note_("send " + describe(*read));
      return ledger_.partitions([this, read](auto result) {
        if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
        read->partitions = result.value();
      });
  }
}

void ReadsClient::send_history(const std::shared_ptr<ReadOp>& read) {
  // Mostly a page that holds the whole history (read-your-writes sees every row), sometimes a
  // short one (next_before set, the rest on later pages).
  read->limit = pick(3) == 0 ? 1 + static_cast<int>(pick(4)) : 200;
  read->before = cursor(read->account);
  note_("send " + describe(*read));
  ledger_.history(read->account, read->limit, read->before, [this, read](auto result) {
    if (!answered(*read, result ? std::nullopt : std::optional(result.error()))) return;
    read->missing = !result.value();
    if (!read->missing) {
      read->rows = rows_of(result.value()->rows);
      read->next_before = result.value()->next_before;
    }
  });
}

}  // namespace wallet::simulation
