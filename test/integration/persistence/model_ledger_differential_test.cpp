// Differential test of the simulation's model store: random batches of deposits, transfers,
// withdrawals, new holds, captures, voids, expiries and changes of accounts' rules (overdraft
// lines, freezes, closings), many of which must be refused (stale balances, broken arithmetic,
// balances below the line, reused ids and keys, unknown accounts, zero changes, wrongly signed
// legs, holds beyond the balance or on one account, closings of closed holds, captures without
// their transfer, debits of frozen accounts, closings of accounts not empty, negative lines, one
// account changed twice), and transactions of many postings with their reversals (011: postings
// between accounts and from or to @world, whole and partial reversals, over-reversals, two
// reversals of one transaction in a batch, reused ids, broken posting rows), go through
// ModelState::apply and through the real ledger_apply_batch on Postgres (in a scratch schema).
// Both must accept and refuse the same batches and end with the same accounts, rows, outcomes,
// transactions and reversal totals: the model is only as good as this.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/posting_client.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet {
namespace {

using persistence::EntryKind;
using persistence::LedgerEntry;
using persistence::LedgerMutation;

class Generator {
 public:
  Generator(uint64_t seed, std::vector<std::string> users, const simulation::ModelState& model)
      : rng_(seed), users_(std::move(users)), model_(model) {}

  // One batch: each mutation valid against the model's current state (as a real account actor
  // would build it), unless this batch is chosen to carry a defect.
  std::vector<LedgerMutation> batch() {
    std::map<std::string, int64_t> pending = model_.balances;
    std::map<std::string, persistence::HoldRecord> open;  // pending holds, as the batch goes
    for (const auto& [id, hold] : model_.holds) {
      if (hold.status == "pending") open[id] = hold;
    }
    std::map<std::string, persistence::InTransit> moving = model_.in_transit;  // 007
    std::vector<LedgerMutation> out;
    const int size = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < size; ++i) out.push_back(mutation(pending, open, moving));
    if (rng_() % 3 == 0) corrupt(out);
    return out;
  }

 private:
  static int64_t held(const std::map<std::string, persistence::HoldRecord>& open,
                      const std::string& user) {
    int64_t sum = 0;
    for (const auto& [id, hold] : open) sum += hold.from_user_id == user ? hold.amount : 0;
    return sum;
  }

  // The two rows of a transfer of `amount` from a to b; or, across owners (007), the debit row
  // and the transfer's in-transit row.
  void transfer_rows(LedgerMutation& m, std::map<std::string, int64_t>& pending,
                     const std::string& a, const std::string& b, int64_t amount,
                     const std::string& transfer,
                     std::map<std::string, persistence::InTransit>* moving = nullptr) {
    m.entries.push_back({domain::new_uuid_v4(), a, -amount, pending[a], pending[a] - amount,
                         EntryKind::transfer_debit, transfer});
    pending[a] -= amount;
    if (moving) {
      persistence::InTransit leg{transfer, a, b, amount, static_cast<int>(rng_() % 12), {}};
      m.departures.push_back(leg);
      (*moving)[transfer] = leg;
      return;
    }
    m.entries.push_back({domain::new_uuid_v4(), b, amount, pending[b], pending[b] + amount,
                         EntryKind::transfer_credit, transfer});
    pending[b] += amount;
  }

  LedgerMutation mutation(std::map<std::string, int64_t>& pending,
                          std::map<std::string, persistence::HoldRecord>& open,
                          std::map<std::string, persistence::InTransit>& moving) {
    LedgerMutation m;
    const auto& a = users_[rng_() % users_.size()];
    auto b = users_[rng_() % users_.size()];
    const int64_t amount = 100 * static_cast<int64_t>(1 + rng_() % 50);
    const int64_t available = pending[a] + model_.rules_of(a).overdraft_limit - held(open, a);
    const int kind = static_cast<int>(rng_() % 10);
    if (kind == 9) {
      // 010: a change of a's rules: a line (at times below its debt), a freeze or an unfreeze, or
      // a closing, only of the first account (closed is final: the others keep taking rows).
      persistence::AccountChange change;
      change.account_id = a;
      change.change_id = domain::new_uuid_v4();
      const auto what = rng_() % 3;
      if (what == 0) {
        change.overdraft_limit = 100 * static_cast<int64_t>(rng_() % 60);
      } else if (what == 1 || a != users_.front()) {
        // Mostly unfreezing: a frozen account refuses every debit and hold, and the other kinds
        // of rows need accounts that take them.
        change.status = rng_() % 4 == 0 ? "frozen" : "open";
      } else {
        change.status = "closed";
        change.overdraft_limit = 0;
      }
      m.account_changes.push_back(std::move(change));
    } else if (kind == 7 && a != b && available >= amount) {
      // 007: a transfer across owners departs: its debit and its in-transit row.
      transfer_rows(m, pending, a, b, amount, domain::new_uuid_v4(), &moving);
    } else if (kind == 8 && !moving.empty()) {
      // 007: the credit of a transfer in transit arrives, deleting its row.
      auto it = moving.begin();
      std::advance(it, static_cast<long>(rng_() % moving.size()));
      const auto leg = it->second;
      moving.erase(it);
      const auto& to = leg.to_user_id;
      m.entries.push_back({domain::new_uuid_v4(), to, leg.amount, pending[to],
                           pending[to] + leg.amount, EntryKind::transfer_credit, leg.transfer_id});
      pending[to] += leg.amount;
      m.arrivals.push_back(leg);
    } else if (kind == 0 || (a == b && kind < 4)) {
      m.entries.push_back({domain::new_uuid_v4(), a, amount, pending[a], pending[a] + amount,
                           EntryKind::deposit, ""});
      pending[a] += amount;
    } else if (kind == 1 && available >= amount) {
      transfer_rows(m, pending, a, b, amount, domain::new_uuid_v4());
    } else if (kind == 2 && available >= amount) {
      m.entries.push_back({domain::new_uuid_v4(), a, -amount, pending[a], pending[a] - amount,
                           EntryKind::withdrawal, ""});
      pending[a] -= amount;
    } else if (kind == 3 && a != b && available >= amount &&
               // Mostly holds the rules allow; now and then one of a frozen or closed payer.
               (model_.rules_of(a).status == persistence::AccountStatus::open || rng_() % 8 == 0)) {
      persistence::HoldRecord hold;
      hold.hold_id = domain::new_uuid_v4();
      hold.from_user_id = a;
      hold.to_user_id = b;
      hold.amount = amount;
      hold.expires_at_ms = 1'900'000'000'000;
      m.new_holds.push_back(hold);
      open[hold.hold_id] = hold;
    } else if (kind >= 4 && !open.empty()) {
      auto it = open.begin();
      std::advance(it, static_cast<long>(rng_() % open.size()));
      const auto hold = it->second;
      open.erase(it);
      if (kind == 4) {
        m.hold_changes.push_back({hold.hold_id, rng_() % 2 ? "voided" : "expired", "", 0});
      } else {
        const int64_t part = hold.amount - static_cast<int64_t>(rng_() % 2) * (hold.amount / 2);
        const auto transfer = domain::new_uuid_v4();
        // A capture whose payee has another owner departs like any transfer across owners.
        transfer_rows(m, pending, hold.from_user_id, hold.to_user_id, part, transfer,
                      rng_() % 3 == 0 ? &moving : nullptr);
        m.hold_changes.push_back({hold.hold_id, "captured", transfer, part});
      }
    }
    const bool empty = m.entries.empty() && m.new_holds.empty() && m.hold_changes.empty() &&
                       m.account_changes.empty();
    if (rng_() % 2 == 0 || empty) {
      const int status = empty ? 409 : 200;
      m.outcome = persistence::IdempotencyOutcome{
          "/transferMoney", "key-" + std::to_string(rng_() % 400), "hash-" + std::to_string(rng_()),
          status, "{\"n\":" + std::to_string(rng_() % 1000) + "}"};
    }
    return m;
  }

  void corrupt(std::vector<LedgerMutation>& batch) {
    auto& m = batch[rng_() % batch.size()];
    if (!m.account_changes.empty()) {
      auto& c = m.account_changes.front();
      switch (rng_() % 5) {
        case 0:
          c.overdraft_limit = -100;  // accounts_overdraft_limit_not_negative
          break;
        case 4:
          c.status = "closed";  // mostly not empty: WL007, accounts_closed_are_empty
          break;
        case 1:
          c.status = "suspended";  // accounts_status_known
          break;
        case 2:
          m.account_changes.push_back(c);  // one account twice in a batch (WL008)
          break;
        case 3:
          c.account_id = domain::new_uuid_v4();  // no such account (WL008)
          break;
      }
      return;
    }
    if (!m.arrivals.empty()) {
      auto& a = m.arrivals.front();
      switch (rng_() % 3) {
        case 0:
          a.amount += 100;  // not what is in transit (WL006)
          break;
        case 1:
          a.transfer_id = domain::new_uuid_v4();  // nothing in transit (WL006)
          break;
        case 2:
          m.arrivals.clear();  // a credit without its receipt: a second credit may follow
          if (!model_.rows.empty()) {
            for (const auto& row : model_.rows) {
              if (row.entry.kind == EntryKind::transfer_credit) {
                m.entries.front().transfer_id = row.entry.transfer_id;  // one credit per transfer
              }
            }
          }
          break;
      }
      return;
    }
    if (!m.departures.empty()) {
      auto& d = m.departures.front();
      if (rng_() % 2 == 0 && !model_.in_transit.empty()) {
        d.transfer_id = model_.in_transit.begin()->first;  // primary key of transfers_in_transit
      } else {
        d.amount = 0;  // check: amount > 0
      }
      return;
    }
    if (!m.new_holds.empty()) {
      auto& h = m.new_holds.front();
      switch (rng_() % 4) {
        case 0:
          h.amount += 1'000'000;  // beyond the balance (WL004)
          break;
        case 1:
          h.to_user_id = h.from_user_id;
          break;
        case 2:
          h.amount = 0;
          break;
        case 3:
          if (!model_.holds.empty()) h.hold_id = model_.holds.begin()->first;  // reused id
          break;
      }
      return;
    }
    if (!m.hold_changes.empty()) {
      auto& c = m.hold_changes.front();
      switch (rng_() % 4) {
        case 0:  // a hold already closed, or none at all
          c.hold_id = domain::new_uuid_v4();
          for (const auto& [id, hold] : model_.holds) {
            if (hold.status != "pending") c.hold_id = id;
          }
          break;
        case 1:
          if (c.status == "captured") c.captured_amount += 100;  // no matching rows (WL003)
          break;
        case 2:
          if (c.status == "captured") c.transfer_id = domain::new_uuid_v4();  // WL003
          break;
        case 3:
          c.status = c.status == "captured" ? "pending" : "captured";  // status checks
          break;
      }
      return;
    }
    if (m.entries.empty()) {
      m.outcome->key = "";  // violates the key length check
      return;
    }
    auto& e = m.entries[rng_() % m.entries.size()];
    switch (rng_() % 8) {
      case 0:
        e.old_balance += 1;
        e.new_balance += 1;
        break;  // stale
      case 1:
        e.new_balance += 1;
        break;  // arithmetic
      case 2:
        e.change = 0;
        e.new_balance = e.old_balance;
        break;
      case 3:
        e.user_id = domain::new_uuid_v4();
        break;  // unknown account
      case 4:
        e.new_balance = -100;
        e.change = e.new_balance - e.old_balance;
        break;  // negative
      case 5:
        if (!used_ids_.empty()) e.id = used_ids_[rng_() % used_ids_.size()];
        break;
      case 6:
        e.kind = e.kind == EntryKind::deposit ? EntryKind::transfer_credit : EntryKind::deposit;
        break;
      case 7:
        e.kind = e.kind == EntryKind::withdrawal ? EntryKind::deposit : EntryKind::withdrawal;
        break;
    }
  }

 public:
  std::vector<std::string> used_ids_;

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> users_;
  const simulation::ModelState& model_;
};

// The database holds what the model holds: balances and rules, rows in commit order, outcomes.
void expect_same_state(pqxx::connection& db, const simulation::ModelState& model) {
  pqxx::nontransaction read(db);
  for (const auto& [user, balance] : model.balances) {
    auto row = read.exec_params1(
        "SELECT balance::text, (overdraft_limit * 100)::bigint, status FROM accounts"
        " WHERE account_id = $1",
        user);
    EXPECT_EQ(row[0].as<std::string>(), domain::format_minor_units(balance)) << user;
    const auto rules = model.rules_of(user);
    EXPECT_EQ(row[1].as<int64_t>(), rules.overdraft_limit) << user;
    EXPECT_EQ(row[2].as<std::string>(), persistence::account_status_name(rules.status)) << user;
  }
  auto rows = read.exec(
      "SELECT id::text, user_id::text, balance_change::text, old_balance::text, new_balance::text,"
      " kind, coalesce(transfer_id::text, ''), coalesce(transaction_id::text, ''),"
      " coalesce(posting, -1) FROM transactions ORDER BY seq");
  ASSERT_EQ(rows.size(), model.rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& e = model.rows[i].entry;
    EXPECT_EQ(rows[i][0].as<std::string>(), e.id);
    EXPECT_EQ(rows[i][1].as<std::string>(), e.user_id);
    EXPECT_EQ(rows[i][2].as<std::string>(), domain::format_minor_units(e.change));
    EXPECT_EQ(rows[i][3].as<std::string>(), domain::format_minor_units(e.old_balance));
    EXPECT_EQ(rows[i][4].as<std::string>(), domain::format_minor_units(e.new_balance));
    EXPECT_EQ(rows[i][5].as<std::string>(), persistence::entry_kind_name(e.kind));
    EXPECT_EQ(rows[i][6].as<std::string>(), e.transfer_id);
    EXPECT_EQ(rows[i][7].as<std::string>(), e.transaction_id);
    EXPECT_EQ(rows[i][8].as<int>(), e.transaction_id.empty() ? -1 : e.posting);
  }
  // 011: ledger_transactions and transaction_reversals.
  auto transactions = read.exec(
      "SELECT transaction_id::text, postings::text, metadata::text, coalesce(reference, ''),"
      " coalesce(reverses::text, '') FROM ledger_transactions"
      " ORDER BY transaction_id::text COLLATE \"C\"");
  ASSERT_EQ(transactions.size(), model.transactions.size());
  size_t t = 0;
  for (const auto& [id, committed] : model.transactions) {
    const auto& record = committed.record;
    EXPECT_EQ(transactions[t][0].as<std::string>(), id);
    EXPECT_EQ(nlohmann::json::parse(transactions[t][1].as<std::string>()),
              nlohmann::json::parse(record.postings))
        << id;
    EXPECT_EQ(nlohmann::json::parse(transactions[t][2].as<std::string>()),
              nlohmann::json::parse(record.metadata))
        << id;
    EXPECT_EQ(transactions[t][3].as<std::string>(), record.reference.value_or(""));
    EXPECT_EQ(transactions[t][4].as<std::string>(), record.reverses);
    ++t;
  }
  auto reversals = read.exec(
      "SELECT transaction_id::text, reversible::text, reversed::text FROM transaction_reversals"
      " ORDER BY transaction_id::text COLLATE \"C\"");
  ASSERT_EQ(reversals.size(), model.reversals.size());
  size_t r = 0;
  for (const auto& [id, row] : model.reversals) {
    EXPECT_EQ(reversals[r][0].as<std::string>(), id);
    EXPECT_EQ(reversals[r][1].as<std::string>(),
              domain::format_minor(row.reversible, row.exponent));
    EXPECT_EQ(reversals[r][2].as<std::string>(), domain::format_minor(row.reversed, row.exponent));
    ++r;
  }
  auto outcomes = read.exec(
      "SELECT endpoint, key, request_hash, status_code, response_body FROM idempotency_keys"
      " ORDER BY endpoint COLLATE \"C\", key COLLATE \"C\"");
  ASSERT_EQ(outcomes.size(), model.outcomes.size());
  size_t i = 0;
  for (const auto& [key, o] : model.outcomes) {
    EXPECT_EQ(outcomes[i][1].as<std::string>(), o.key);
    EXPECT_EQ(outcomes[i][2].as<std::string>(), o.request_hash);
    EXPECT_EQ(outcomes[i][3].as<int>(), o.status);
    EXPECT_EQ(outcomes[i][4].as<std::string>(), o.body);
    ++i;
  }
  auto moving = read.exec(
      "SELECT transfer_id::text, from_user_id::text, to_user_id::text, amount::text, to_partition"
      " FROM transfers_in_transit ORDER BY transfer_id::text COLLATE \"C\"");
  ASSERT_EQ(moving.size(), model.in_transit.size());
  size_t m = 0;
  for (const auto& [id, leg] : model.in_transit) {
    EXPECT_EQ(moving[m][0].as<std::string>(), id);
    EXPECT_EQ(moving[m][1].as<std::string>(), leg.from_user_id);
    EXPECT_EQ(moving[m][2].as<std::string>(), leg.to_user_id);
    EXPECT_EQ(moving[m][3].as<std::string>(), domain::format_minor_units(leg.amount));
    EXPECT_EQ(moving[m][4].as<int>(), leg.to_partition);
    ++m;
  }
  auto holds = read.exec(
      "SELECT hold_id::text, from_user_id::text, to_user_id::text, amount::text, status,"
      " coalesce(transfer_id::text, ''), coalesce(captured_amount::text, '') FROM holds"
      " ORDER BY hold_id::text COLLATE \"C\"");
  ASSERT_EQ(holds.size(), model.holds.size());
  i = 0;
  for (const auto& [id, h] : model.holds) {
    EXPECT_EQ(holds[i][0].as<std::string>(), id);
    EXPECT_EQ(holds[i][1].as<std::string>(), h.from_user_id);
    EXPECT_EQ(holds[i][2].as<std::string>(), h.to_user_id);
    EXPECT_EQ(holds[i][3].as<std::string>(), domain::format_minor_units(h.amount));
    EXPECT_EQ(holds[i][4].as<std::string>(), h.status);
    EXPECT_EQ(holds[i][5].as<std::string>(), h.transfer_id);
    EXPECT_EQ(holds[i][6].as<std::string>(),
              h.status == "captured" ? domain::format_minor_units(h.captured_amount) : "");
    ++i;
  }
}

TEST(ModelLedgerDifferentialTest, ModelAndLedgerApplyBatchAgreeOnRandomBatches) {
  test::ScratchSchema schema(test::transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  // The ids pick the holds closed (the model's maps are ordered by them): a seeded sequence makes
  // every run the same (with random ones, one run in a few closed too few holds of one kind).
  domain::seed_uuids_for_simulation(20261202004);
  simulation::ModelState model;
  std::vector<std::string> users;
  for (int i = 0; i < 5; ++i) {
    users.push_back(domain::new_uuid_v4());
    const int64_t initial = 10'000 * i;
    pqxx::work txn(db);
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, $2::numeric)", users.back(),
                    domain::format_minor_units(initial));
    txn.commit();
    model.balances[users.back()] = initial;
  }
  persistence::LedgerStore store(schema.url(), std::chrono::milliseconds(5'000));
  Generator generate(20261202, users, model);
  int committed = 0;
  int refused = 0;
  int departed = 0;
  int arrived = 0;
  // Per path of LedgerStore::apply: [balance movements only (ledger_commit_rows, typed columns),
  // anything else (ledger_commit_batch, jsonb)][refused, committed].
  int by_path[2][2] = {{0, 0}, {0, 0}};
  for (int round = 0; round < 2400; ++round) {
    auto batch = generate.batch();
    std::vector<const LedgerMutation*> ops;
    for (const auto& m : batch) ops.push_back(&m);
    std::string why;
    const bool model_ok = model.apply(ops, &why);
    const auto real = store.apply(ops);
    ASSERT_NE(real, persistence::ApplyStatus::unavailable) << "round " << round;
    ASSERT_NE(real, persistence::ApplyStatus::in_doubt) << "round " << round;
    ASSERT_EQ(model_ok, real == persistence::ApplyStatus::committed)
        << "round " << round << ": model " << (model_ok ? "committed" : "refused (" + why + ")");
    (model_ok ? committed : refused) += 1;
    const bool balances_only = std::all_of(batch.begin(), batch.end(), [](const auto& m) {
      return m.new_holds.empty() && m.hold_changes.empty() && m.departures.empty() &&
             m.arrivals.empty();
    });
    ++by_path[balances_only ? 0 : 1][model_ok ? 1 : 0];
    if (model_ok) {
      for (const auto& m : batch) {
        for (const auto& e : m.entries) generate.used_ids_.push_back(e.id);
        departed += static_cast<int>(m.departures.size());
        arrived += static_cast<int>(m.arrivals.size());
      }
    }
  }
  // 007: transfers across owners departed and arrived (and some are still in transit).
  EXPECT_GT(departed, 5);
  EXPECT_GT(arrived, 5);
  // Both kinds of batch were exercised, and every kind of row and hold change committed.
  EXPECT_GT(committed, 100);
  EXPECT_GT(refused, 100);
  // 008: both statements, typed columns and the jsonb document, committed and refused batches.
  for (const auto& path : by_path) {
    EXPECT_GT(path[0], 20);
    EXPECT_GT(path[1], 20);
  }
  // 010: lines used (balances below zero) and changes of rules committed and refused.
  int overdrawn = 0;
  for (const auto& row : model.rows) overdrawn += row.entry.new_balance < 0;
  EXPECT_GT(overdrawn, 2);
  EXPECT_GT(model.rules_log.size(), 20u);
  std::map<std::string, int> kinds;
  for (const auto& row : model.rows) ++kinds[persistence::entry_kind_name(row.entry.kind)];
  for (const auto& [id, hold] : model.holds) ++kinds["hold " + hold.status];
  for (const char* kind : {"deposit", "withdrawal", "transfer_debit", "hold captured",
                           "hold voided", "hold expired"}) {
    EXPECT_GT(kinds[kind], 5) << kind;
  }

  expect_same_state(db, model);
}

}  // namespace
}  // namespace wallet

namespace wallet {
namespace {

// The ownership fence (006_partition_owner.sql): two instances take partitions back and forth,
// and random batches go out under claims that are current, stale (an epoch another instance
// bumped since), partial (a partition dropped) or of an instance that holds nothing, through
// ModelState::commit and the real ledger_commit_batch. Both must commit, refuse (WL001..WL004) or
// fence (WL005) the same batches, and end with the same state.
TEST(ModelLedgerDifferentialTest, ModelAndLedgerCommitBatchAgreeOnFences) {
  constexpr int kPartitions = 12;
  test::ScratchSchema schema(test::transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  simulation::ModelState model;
  std::vector<std::string> users;
  for (int i = 0; i < 6; ++i) {
    users.push_back(domain::new_uuid_v4());
    const int64_t initial = 10'000 * i;
    pqxx::nontransaction txn(db);
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, $2::numeric)", users.back(),
                    domain::format_minor_units(initial));
    model.balances[users.back()] = initial;
  }
  ASSERT_EQ(persistence::init_partitions(db, kPartitions), kPartitions);
  model.create_partitions(kPartitions);
  // What each instance believes it holds (its claim), which may be stale.
  std::map<std::string, std::map<int, int64_t>> believed;
  auto take = [&](int partition, const std::string& instance) {
    const int64_t real = persistence::take_partition(db, partition, instance);
    const int64_t modelled = model.take_partition(partition, instance);
    EXPECT_EQ(real, modelled);
    believed[instance][partition] = modelled;
  };
  for (int p = 0; p < kPartitions; ++p) take(p, "a");

  persistence::LedgerStore store(schema.url(), std::chrono::milliseconds(5'000));
  Generator generate(20261203, users, model);
  std::mt19937_64 rng(7);
  std::map<persistence::ApplyStatus, int> seen;
  for (int round = 0; round < 400; ++round) {
    if (rng() % 8 == 0) take(static_cast<int>(rng() % kPartitions), rng() % 3 ? "a" : "b");
    persistence::OwnershipClaim claim;
    const int kind = static_cast<int>(rng() % 6);
    claim.instance_id = kind == 5 ? "c" : (rng() % 3 ? "a" : "b");  // c holds nothing
    auto& beliefs = believed[claim.instance_id];
    if (rng() % 2 == 0) {
      // It learnt of the takes since (a revocation): it claims what it holds now.
      beliefs.clear();
      for (const auto& [p, row] : model.partition_owner) {
        if (row.owner == claim.instance_id) beliefs[p] = row.epoch;
      }
    }
    for (const auto& [p, e] : beliefs) claim.epochs.push_back({p, e});
    if (kind == 4 && !claim.epochs.empty()) {
      claim.epochs.erase(claim.epochs.begin() + static_cast<long>(rng() % claim.epochs.size()));
    }
    auto batch = generate.batch();
    std::vector<const LedgerMutation*> ops;
    for (const auto& m : batch) ops.push_back(&m);
    std::string why;
    const auto modelled = model.commit(ops, &claim, &why);
    const auto real = store.apply(ops, &claim);
    ASSERT_EQ(static_cast<int>(modelled), static_cast<int>(real))
        << "round " << round << ": model " << static_cast<int>(modelled) << " (" << why << ")";
    ++seen[real];
    if (modelled == persistence::ApplyStatus::committed) {
      for (const auto& m : batch) {
        for (const auto& e : m.entries) generate.used_ids_.push_back(e.id);
      }
    }
  }
  // Every verdict was exercised.
  EXPECT_GT(seen[persistence::ApplyStatus::committed], 20);
  EXPECT_GT(seen[persistence::ApplyStatus::rejected], 20);
  EXPECT_GT(seen[persistence::ApplyStatus::fenced], 20);
  // Keys reused across batches (400 of them): an outcome under a stored key refuses its batch
  // (WL011) in both, after the fence and the rows.
  EXPECT_GT(seen[persistence::ApplyStatus::key_taken], 5)
      << seen[persistence::ApplyStatus::key_taken];
  expect_same_state(db, model);
}

}  // namespace
}  // namespace wallet

namespace wallet {
namespace {

using actors::kWorld;
using actors::Posting;

// Transactions of many postings (011): a transaction's rows as the posting coordinator writes them
// (per posting the debit row of `from`, then the credit row of `to`, one row for an @world side,
// chained per account from `pending`) and its ledger_transactions record.
LedgerMutation posting_mutation(std::map<std::string, int64_t>& pending,
                                const std::vector<Posting>& postings,
                                persistence::TransactionRecord record) {
  LedgerMutation m;
  auto row = [&](const std::string& account, int64_t change, EntryKind kind, int index) {
    LedgerEntry e{domain::new_uuid_v4(),     account, change, pending[account],
                  pending[account] + change, kind,    ""};
    e.transaction_id = record.transaction_id;
    e.posting = index;
    pending[account] += change;
    m.entries.push_back(std::move(e));
  };
  for (size_t i = 0; i < postings.size(); ++i) {
    const auto& p = postings[i];
    const int index = static_cast<int>(i);
    if (p.from != kWorld) {
      row(p.from, -p.amount, p.to == kWorld ? EntryKind::withdrawal : EntryKind::posting_debit,
          index);
    }
    if (p.to != kWorld) {
      row(p.to, p.amount, p.from == kWorld ? EntryKind::deposit : EntryKind::posting_credit, index);
    }
  }
  record.postings = simulation::postings_text(postings);
  if (record.created_at.empty()) record.created_at = "2026-12-06T10:00:00.000Z";
  m.transactions.push_back(std::move(record));
  return m;
}

persistence::TransactionRecord new_record() {
  persistence::TransactionRecord record;
  record.transaction_id = domain::new_uuid_v4();
  return record;
}

// A reversal of `original` (committed in `model`): its postings inverted, of `amount` of its one
// posting (0: all that is left, as the HTTP layer reads it: `reversed` is what it read).
LedgerMutation reversal_mutation(std::map<std::string, int64_t>& pending,
                                 const simulation::ModelState& model, const std::string& original,
                                 int64_t amount, int64_t reversed) {
  const auto postings = simulation::parse_postings(model.transactions.at(original).record.postings);
  const bool single = postings.size() == 1;
  auto record = new_record();
  record.reverses = original;
  record.reversible = single ? postings.front().amount : 1;
  record.exponent = single ? 2 : 0;
  record.reversed_now = single ? (amount > 0 ? amount : record.reversible - reversed) : 1;
  std::vector<Posting> inverted;
  for (const auto& p : postings) {
    inverted.push_back({p.to, p.from, single ? record.reversed_now : p.amount, p.currency});
  }
  return posting_mutation(pending, inverted, std::move(record));
}

// Random batches of transactions and reversals over the users, valid against the model unless
// chosen to carry a defect.
class PostingGenerator {
 public:
  PostingGenerator(uint64_t seed, std::vector<std::string> users,
                   const simulation::ModelState& model)
      : rng_(seed), users_(std::move(users)), model_(model) {}

  std::vector<LedgerMutation> batch() {
    std::map<std::string, int64_t> pending = model_.balances;
    std::map<std::string, int64_t> reversing;  // reversed so far, this batch included
    for (const auto& [id, row] : model_.reversals) reversing[id] = row.reversed;
    std::vector<LedgerMutation> out;
    const int size = 1 + static_cast<int>(rng_() % 3);
    for (int i = 0; i < size; ++i) {
      if (rng_() % 3 == 0 && !model_.transactions.empty()) {
        if (auto m = reversal(pending, reversing)) out.push_back(std::move(*m));
      } else {
        out.push_back(transaction(pending));
      }
    }
    if (out.empty()) out.push_back(transaction(pending));
    if (rng_() % 3 == 0) corrupt(out, pending);
    return out;
  }

 private:
  const std::string& user() { return users_[rng_() % users_.size()]; }

  LedgerMutation transaction(std::map<std::string, int64_t>& pending) {
    std::vector<Posting> postings;
    const int n = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < n; ++i) {
      Posting p{user(), user(), 100 * static_cast<int64_t>(1 + rng_() % 40), "USD"};
      if (rng_() % 5 == 0) p.from = kWorld;
      if (rng_() % 6 == 0 && p.from != kWorld) p.to = kWorld;
      if (p.from == p.to) p.to = p.from == users_.front() ? users_.back() : users_.front();
      postings.push_back(std::move(p));
    }
    auto record = new_record();
    if (rng_() % 3 == 0) record.reference = "order-" + std::to_string(rng_() % 1000);
    if (rng_() % 3 == 0) record.metadata = R"({"shop":"s)" + std::to_string(rng_() % 9) + R"("})";
    return posting_mutation(pending, postings, std::move(record));
  }

  std::optional<LedgerMutation> reversal(std::map<std::string, int64_t>& pending,
                                         std::map<std::string, int64_t>& reversing) {
    auto it = model_.transactions.begin();
    std::advance(it, static_cast<long>(rng_() % model_.transactions.size()));
    const auto postings = simulation::parse_postings(it->second.record.postings);
    const bool single = postings.size() == 1;
    const int64_t reversible = single ? postings.front().amount : 1;
    const int64_t left = reversible - reversing[it->first];
    if (left <= 0) return std::nullopt;
    const int64_t amount =
        single && rng_() % 2 == 0 ? 1 + static_cast<int64_t>(rng_() % left) : (single ? left : 1);
    reversing[it->first] += amount;
    return reversal_mutation(pending, model_, it->first, single ? amount : 0, reversible - left);
  }

  void corrupt(std::vector<LedgerMutation>& batch, std::map<std::string, int64_t>& pending) {
    auto& m = batch[rng_() % batch.size()];
    auto& record = m.transactions.front();
    switch (rng_() % 10) {
      case 0:  // over-reversal: more than is left (transaction_reversals_within)
        if (!record.reverses.empty()) {
          record.reversed_now = record.exponent == 0 ? 1 : record.reversed_now + record.reversible;
          if (record.exponent == 0 && !model_.reversals.count(record.reverses)) {
            record.reversed_now = 2;  // 2 of 1: the proposed row's own CHECK
          }
        }
        break;
      case 1:  // two reversals of one transaction in one batch: ON CONFLICT affects a row twice
        if (!model_.transactions.empty()) {
          const auto& original = model_.transactions.begin()->first;
          const auto postings =
              simulation::parse_postings(model_.transactions.begin()->second.record.postings);
          const int64_t part = postings.size() == 1 ? 1 : 0;
          batch.push_back(reversal_mutation(pending, model_, original, part, 0));
          batch.push_back(reversal_mutation(pending, model_, original, part, 0));
        }
        break;
      case 2:  // a transaction id used before (primary key)
        if (!model_.transactions.empty()) {
          record.transaction_id = model_.transactions.begin()->first;
        }
        break;
      case 3:  // a posting index beyond 31
        m.entries.front().posting = 32;
        break;
      case 4:  // a posting row without its transaction
        for (auto& e : m.entries) {
          if (e.kind == EntryKind::posting_debit || e.kind == EntryKind::posting_credit) {
            e.transaction_id.clear();
          }
        }
        break;
      case 5:  // one leg written twice (transactions_posting_leg)
        if (m.entries.size() >= 2) m.entries.back().posting = m.entries.front().posting;
        break;
      case 6:
        record.reference = std::string(129, 'r');
        break;
      case 7:
        record.postings = "[]";
        break;
      case 8:  // a debit written as a credit
        for (auto& e : m.entries) {
          if (e.kind == EntryKind::posting_debit) e.kind = EntryKind::posting_credit;
        }
        break;
      case 9:  // a reversal amount of zero
        if (!record.reverses.empty()) record.reversed_now = 0;
        break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> users_;
  const simulation::ModelState& model_;
};

// Transactions of many postings through ModelState::apply and the real ledger_apply_batch: scripted
// batches first (several postings with an @world leg, a whole reversal, a second one refused by
// the guard, partial reversals racing in one batch, then one too many), then random batches of
// transactions and reversals mixed with the other mutations (freezes among them), many refused.
TEST(ModelLedgerDifferentialTest, ModelAndLedgerAgreeOnTransactionsAndReversals) {
  test::ScratchSchema schema(test::transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  // The ids pick the transactions reversed (the model's maps are ordered by them): a seeded
  // sequence makes every run the same.
  domain::seed_uuids_for_simulation(20261206);
  simulation::ModelState model;
  std::vector<std::string> users;
  for (int i = 0; i < 5; ++i) {
    users.push_back(domain::new_uuid_v4());
    const int64_t initial = 10'000 * i;
    pqxx::nontransaction txn(db);
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, $2::numeric)", users.back(),
                    domain::format_minor_units(initial));
    model.balances[users.back()] = initial;
  }
  persistence::LedgerStore store(schema.url(), std::chrono::milliseconds(5'000));
  using persistence::ApplyStatus;
  std::map<std::string, int> refused;  // by the model's reason
  // Applies a batch to both (ledger_commit_batch without a fence); they must agree on how it ends:
  // committed, rejected, or over_reversed (the reversal guard's WL009).
  auto apply = [&](std::vector<LedgerMutation> batch, const std::string& what) {
    std::vector<const LedgerMutation*> ops;
    for (const auto& m : batch) ops.push_back(&m);
    std::string why;
    const auto modelled = model.commit(ops, nullptr, &why);
    const auto real = store.apply(ops);
    EXPECT_EQ(static_cast<int>(modelled), static_cast<int>(real))
        << what << ": model " << static_cast<int>(modelled) << " (" << why << "), Postgres "
        << static_cast<int>(real);
    if (modelled != ApplyStatus::committed) ++refused[why];
    return real;
  };
  auto pending = [&] { return model.balances; };
  const std::string &u1 = users[1], &u2 = users[2], &u3 = users[3];

  // A payment with its fee, and money from @world: three postings, five rows (u1 gains 15.00).
  auto p = pending();
  auto paid = posting_mutation(
      p, {{u1, u2, 3'000, "USD"}, {u1, u3, 500, "USD"}, {kWorld, u1, 5'000, "USD"}}, new_record());
  const auto paid_id = paid.transactions.front().transaction_id;
  ASSERT_EQ(apply({paid}, "three postings with an @world leg"), ApplyStatus::committed);
  ASSERT_EQ(model.balances.at(u1), 11'500);
  // Reversed whole (1 of 1), then once more: the guard refuses the second.
  p = pending();
  ASSERT_EQ(apply({reversal_mutation(p, model, paid_id, 0, 0)}, "a whole reversal"),
            ApplyStatus::committed);
  p = pending();
  EXPECT_EQ(apply({reversal_mutation(p, model, paid_id, 0, 0)}, "a second whole reversal"),
            ApplyStatus::over_reversed);
  // A payment to @world (a withdrawal) of one posting, reversed in part: 5.00, then two of 10.00
  // racing in one batch (one statement may not update a row twice: refused together), then 10.00
  // alone, then 10.00 more (25.00 of 20.00: the guard).
  p = pending();
  auto out = posting_mutation(p, {{u3, kWorld, 2'000, "USD"}}, new_record());
  const auto out_id = out.transactions.front().transaction_id;
  ASSERT_EQ(apply({out}, "a posting to @world"), ApplyStatus::committed);
  p = pending();
  ASSERT_EQ(apply({reversal_mutation(p, model, out_id, 500, 0)}, "a partial reversal"),
            ApplyStatus::committed);
  p = pending();
  auto first = reversal_mutation(p, model, out_id, 1'000, 500);
  auto second = reversal_mutation(p, model, out_id, 1'000, 500);
  EXPECT_EQ(apply({first, second}, "two reversals of one transaction in one batch"),
            ApplyStatus::rejected);
  p = pending();
  ASSERT_EQ(apply({reversal_mutation(p, model, out_id, 1'000, 500)}, "the first alone"),
            ApplyStatus::committed);
  p = pending();
  EXPECT_EQ(apply({reversal_mutation(p, model, out_id, 1'000, 500)}, "one too many"),
            ApplyStatus::over_reversed);
  EXPECT_EQ(model.reversals.at(out_id).reversed, 1'500);
  EXPECT_EQ(model.reversals.at(paid_id).reversed, 1);
  expect_same_state(db, model);

  Generator others(20261204, users, model);
  PostingGenerator generate(20261205, users, model);
  int committed = 0;
  for (int round = 0; round < 1'500 && !HasFailure(); ++round) {
    const bool postings = round % 4 != 0;
    const auto status =
        apply(postings ? generate.batch() : others.batch(), "round " + std::to_string(round));
    committed += status == ApplyStatus::committed;
  }
  EXPECT_GT(committed, 200);
  int multi = 0, world = 0, reversals = 0;
  for (const auto& [id, t] : model.transactions) {
    const auto postings = simulation::parse_postings(t.record.postings);
    multi += postings.size() > 1;
    world += std::any_of(postings.begin(), postings.end(),
                         [](const Posting& p) { return p.from == kWorld || p.to == kWorld; });
    reversals += !t.record.reverses.empty();
  }
  EXPECT_GT(multi, 50);
  EXPECT_GT(world, 50);
  EXPECT_GT(reversals, 30);
  int guard = 0;
  for (const auto& [why, n] : refused) guard += why.find("WL009") != std::string::npos ? n : 0;
  EXPECT_GT(guard, 5);  // over-reversals (WL009)
  EXPECT_GT(refused["transaction_reversals: ON CONFLICT DO UPDATE affects a row twice"], 0);
  expect_same_state(db, model);
}

}  // namespace
}  // namespace wallet

namespace wallet {
namespace {

using persistence::ApplyStatus;
using persistence::TransactionDecision;

// Across owners (012): a hold of a transaction (it names the transaction and the posting).
LedgerMutation transaction_hold(const std::string& hold_id, const std::string& payer,
                                const std::string& payee, int64_t amount,
                                const std::string& transaction_id, int posting) {
  LedgerMutation m;
  persistence::HoldRecord hold;
  hold.hold_id = hold_id;
  hold.from_user_id = payer;
  hold.to_user_id = payee;
  hold.amount = amount;
  hold.expires_at_ms = persistence::kNeverExpiresMs;
  hold.transaction_id = transaction_id;
  hold.posting = posting;
  m.new_holds.push_back(hold);
  return m;
}

// Its capture as the posting's rows: the debit of its payer and the credit of `credited` (the
// payee; another account breaks WL003), or the credit in transit to the payee.
LedgerMutation capture_as_posting(const simulation::ModelState& model,
                                  const persistence::HoldRecord& hold, const std::string& credited,
                                  bool in_transit) {
  LedgerMutation m;
  const std::string transfer_id = domain::new_uuid_v4();
  auto row = [&](const std::string& account, int64_t change, EntryKind kind) {
    const int64_t balance = model.balances.at(account);
    LedgerEntry e{domain::new_uuid_v4(), account, change, balance, balance + change, kind, ""};
    e.transaction_id = hold.transaction_id;
    e.posting = hold.posting;
    m.entries.push_back(std::move(e));
  };
  row(hold.from_user_id, -hold.amount, EntryKind::posting_debit);
  if (in_transit) {
    persistence::InTransit leg{transfer_id, hold.from_user_id, hold.to_user_id, hold.amount, 3, {}};
    leg.transaction_id = hold.transaction_id;
    leg.posting = hold.posting;
    m.departures.push_back(leg);
  } else {
    row(credited, hold.amount, EntryKind::posting_credit);
  }
  m.hold_changes.push_back({hold.hold_id, "captured", transfer_id, hold.amount, 2});
  return m;
}

// The decision of a transaction across owners (transaction_decisions): the coordinator's commit
// with `decides` records `commit` unless `abort` was recorded first (WL010, ApplyStatus::aborted);
// a hold's owner records `abort` unless a decision stands (LedgerBackend::decide); holds of a
// transaction are unique per posting and captured as the posting's rows (WL003's 012 branch).
// Scripted through ModelState::commit and the real ledger_apply_batch, and decide_transaction.
TEST(ModelLedgerDifferentialTest, ModelAndLedgerAgreeOnDecisionsAcrossOwners) {
  test::ScratchSchema schema(test::transaction_db_url(), "transaction_service");
  pqxx::connection db(schema.url());
  domain::seed_uuids_for_simulation(20261207);
  simulation::ModelState model;
  std::vector<std::string> users;
  for (int i = 0; i < 3; ++i) {
    users.push_back(domain::new_uuid_v4());
    pqxx::nontransaction txn(db);
    txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 100.00)", users.back());
    model.balances[users.back()] = 10'000;
  }
  persistence::LedgerStore store(schema.url(), std::chrono::milliseconds(5'000));
  auto apply = [&](const LedgerMutation& m, const std::string& what) {
    std::string why;
    const auto modelled = model.commit({&m}, nullptr, &why);
    const auto real = store.apply({&m});
    EXPECT_EQ(static_cast<int>(modelled), static_cast<int>(real))
        << what << ": model " << static_cast<int>(modelled) << " (" << why << "), Postgres "
        << static_cast<int>(real);
    return real;
  };
  // As ModelLedger::decide and LedgerBackend::decide do it.
  auto decide = [&](const std::string& id, bool abort_if_none) {
    if (abort_if_none) model.decisions.emplace(id, TransactionDecision::abort);
    auto it = model.decisions.find(id);
    const auto modelled = it == model.decisions.end() ? TransactionDecision::none : it->second;
    EXPECT_EQ(static_cast<int>(persistence::decide_transaction(db, id, abort_if_none)),
              static_cast<int>(modelled))
        << "decide " << id;
    return modelled;
  };
  const std::string &u0 = users[0], &u1 = users[1], &u2 = users[2];
  auto decision_only = [](const std::string& id, const std::vector<Posting>& postings) {
    LedgerMutation m;
    persistence::TransactionRecord record;
    record.transaction_id = id;
    record.postings = simulation::postings_text(postings);
    record.created_at = "2026-12-07T10:00:00.000Z";
    record.decides = true;
    m.transactions.push_back(std::move(record));
    return m;
  };

  // Committed: a hold of posting 0, then the decision alone; a second hold of that posting is
  // refused (holds_transaction_posting); the capture as the posting's rows commits.
  const auto t1 = domain::new_uuid_v4(), h1 = domain::new_uuid_v4();
  ASSERT_EQ(apply(transaction_hold(h1, u0, u1, 3'000, t1, 0), "a hold of a transaction"),
            ApplyStatus::committed);
  EXPECT_EQ(apply(transaction_hold(domain::new_uuid_v4(), u0, u1, 1'000, t1, 0), "a second hold"),
            ApplyStatus::rejected);
  EXPECT_EQ(decide(t1, false), TransactionDecision::none);
  ASSERT_EQ(apply(decision_only(t1, {{u0, u1, 3'000, "USD"}}), "the decision commit"),
            ApplyStatus::committed);
  EXPECT_EQ(decide(t1, true), TransactionDecision::commit);  // an owner's abort loses
  EXPECT_EQ(apply(capture_as_posting(model, model.holds.at(h1), u2, false), "credit elsewhere"),
            ApplyStatus::rejected);  // WL003: not the posting's payee
  ASSERT_EQ(apply(capture_as_posting(model, model.holds.at(h1), u1, false), "the capture"),
            ApplyStatus::committed);
  // In transit: the debit with the credit's in-transit row.
  const auto t2 = domain::new_uuid_v4(), h2 = domain::new_uuid_v4();
  ASSERT_EQ(apply(transaction_hold(h2, u1, u2, 2'000, t2, 1), "a hold of posting 1"),
            ApplyStatus::committed);
  ASSERT_EQ(apply(decision_only(t2, {{u0, u2, 500, "USD"}, {u1, u2, 2'000, "USD"}}),
                  "a decision of two postings"),
            ApplyStatus::committed);
  ASSERT_EQ(apply(capture_as_posting(model, model.holds.at(h2), u2, true), "a capture in transit"),
            ApplyStatus::committed);
  // Aborted first: the coordinator's commit fails as a whole (WL010), the hold is voided.
  const auto t3 = domain::new_uuid_v4(), h3 = domain::new_uuid_v4();
  ASSERT_EQ(apply(transaction_hold(h3, u2, u0, 1'500, t3, 0), "a hold to abort"),
            ApplyStatus::committed);
  EXPECT_EQ(decide(t3, true), TransactionDecision::abort);
  EXPECT_EQ(apply(decision_only(t3, {{u2, u0, 1'500, "USD"}}), "a commit after the abort"),
            ApplyStatus::aborted);
  LedgerMutation void_hold;
  void_hold.hold_changes.push_back({h3, "voided", "", 0, 2});
  EXPECT_EQ(apply(void_hold, "the void"), ApplyStatus::committed);
  EXPECT_EQ(decide(t2, true), TransactionDecision::commit);
  EXPECT_EQ(decide(domain::new_uuid_v4(), false), TransactionDecision::none);
  expect_same_state(db, model);
  pqxx::nontransaction read(db);
  auto holds = read.exec(
      "SELECT hold_id::text, coalesce(transaction_id::text, ''), coalesce(posting, -1) FROM holds"
      " ORDER BY hold_id::text COLLATE \"C\"");
  ASSERT_EQ(holds.size(), model.holds.size());
  size_t i = 0;
  for (const auto& [id, h] : model.holds) {
    EXPECT_EQ(holds[i][1].as<std::string>(), h.transaction_id) << id;
    EXPECT_EQ(holds[i][2].as<int>(), h.posting) << id;
    ++i;
  }
}

}  // namespace
}  // namespace wallet
