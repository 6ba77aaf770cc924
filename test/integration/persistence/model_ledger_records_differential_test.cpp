// Differential test of the simulation's ModelLedgerRecords against PostgresLedgerRecords: one
// ledger written through ModelState::apply and through the real ledger_apply_batch (deposits,
// a transfer, a withdrawal, a transfer across owners left in transit, an overdue hold and one not
// yet due), then read through both: every user's history page by page, accounts as
// GET /accounts/{id} shows them, opening a user's account twice, the transfers in transit, the hold
// sweep (all accounts, and only a partition's), taking partitions and listing their owners. Both
// must answer the same (created_at and taken_at, which the model does not keep, aside).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/partitioning.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/model_ledger_records.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet {
namespace {

using persistence::EntryKind;
using persistence::LedgerMutation;

constexpr int kPartitions = 4;

// The answer of a LedgerRecords call on Postgres (blocks until the pool answers).
template <class T, class Call>
domain::Result<T> on_postgres(Call call) {
  std::promise<domain::Result<T>> answer;
  call([&answer](domain::Result<T> result) { answer.set_value(std::move(result)); });
  return answer.get_future().get();
}

// The answer of a LedgerRecords call on the model, its pending calls completed without a fault.
template <class T, class Call>
domain::Result<T> on_model(simulation::ModelLedger& model, Call call) {
  std::optional<domain::Result<T>> answer;
  call([&answer](domain::Result<T> result) { answer = std::move(result); });
  while (!model.pending().empty()) {
    auto op = std::move(model.pending().front());
    model.pending().pop_front();
    op.complete(simulation::Fault::none);
  }
  EXPECT_TRUE(answer.has_value());
  return answer ? std::move(*answer) : domain::Result<T>(domain::Error{});
}

class ModelLedgerRecordsDifferentialTest : public ::testing::Test {
 protected:
  ModelLedgerRecordsDifferentialTest()
      : db_(schema_.url()),
        model_(std::make_shared<simulation::ModelLedger>(simulation::ModelState{}, 1)),
        model_records_(model_),
        postgres_records_(pool_) {
    for (int i = 0; i < 3; ++i) {
      users_.push_back(domain::new_uuid_v4());
      pqxx::work txn(db_);
      txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 0)", users_.back());
      txn.commit();
      model_->shared_state().balances[users_.back()] = 0;
    }
    // The sweep reads now() on the server, the model its clock: the wall clock, here.
    model_->set_clock([] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    });
  }

  // Commits one batch on both sides; both must commit it.
  void commit(std::vector<LedgerMutation> batch) {
    std::vector<const LedgerMutation*> ops;
    for (const auto& m : batch) ops.push_back(&m);
    std::string why;
    ASSERT_TRUE(model_->shared_state().apply(ops, &why)) << why;
    ASSERT_EQ(store_.apply(ops), persistence::ApplyStatus::committed);
  }

  int64_t balance(const std::string& user) const { return model_->state().balances.at(user); }

  LedgerMutation deposit(const std::string& user, int64_t amount) {
    LedgerMutation m;
    m.entries.push_back({domain::new_uuid_v4(), user, amount, balance(user), balance(user) + amount,
                         EntryKind::deposit, ""});
    return m;
  }

  // A transfer's debit, and its credit or (across owners) its row in transit.
  LedgerMutation transfer(const std::string& from, const std::string& to, int64_t amount,
                          bool across_owners) {
    LedgerMutation m;
    const std::string id = domain::new_uuid_v4();
    m.entries.push_back({domain::new_uuid_v4(), from, -amount, balance(from),
                         balance(from) - amount, EntryKind::transfer_debit, id});
    if (across_owners) {
      m.departures.push_back({id, from, to, amount, 3, {}});
    } else {
      m.entries.push_back({domain::new_uuid_v4(), to, amount, balance(to), balance(to) + amount,
                           EntryKind::transfer_credit, id});
    }
    return m;
  }

  LedgerMutation hold(const std::string& id, const std::string& from, const std::string& to,
                      int64_t amount, int64_t expires_at_ms) {
    LedgerMutation m;
    persistence::HoldRecord record;
    record.hold_id = id;
    record.from_user_id = from;
    record.to_user_id = to;
    record.amount = amount;
    record.expires_at_ms = expires_at_ms;
    m.new_holds.push_back(record);
    return m;
  }

  // The ledger both sides hold.
  void write_ledger() {
    const auto &u0 = users_[0], &u1 = users_[1], &u2 = users_[2];
    commit({deposit(u0, 5'000)});
    commit({deposit(u1, 3'000)});
    commit({transfer(u0, u1, 1'200, false)});
    LedgerMutation out;
    out.entries.push_back({domain::new_uuid_v4(), u1, -500, balance(u1), balance(u1) - 500,
                           EntryKind::withdrawal, ""});
    commit({out});
    commit({transfer(u0, u2, 400, true)});
    commit({hold(overdue_hold_, u0, u1, 700, 1'600'000'000'000)});  // 2020: overdue
    commit({hold(domain::new_uuid_v4(), u1, u0, 300, 4'100'000'000'000)});
    for (int i = 1; i <= 5; ++i) commit({deposit(u0, 10 * i)});
  }

  test::ScratchSchema schema_{test::transaction_db_url(), "transaction_service"};
  pqxx::connection db_;
  persistence::DbPool pool_{schema_.url(), 2, 100};
  persistence::LedgerStore store_{schema_.url(), std::chrono::milliseconds(5'000)};
  std::shared_ptr<simulation::ModelLedger> model_;
  simulation::ModelLedgerRecords model_records_;
  persistence::PostgresLedgerRecords postgres_records_;
  std::vector<std::string> users_;
  const std::string overdue_hold_ = domain::new_uuid_v4();
};

// Every page of a user's history, through one side's records (its own cursors).
template <class Ask>
std::vector<persistence::HistoryPage> all_pages(const std::string& user, Ask ask) {
  std::vector<persistence::HistoryPage> pages;
  int64_t before = 0;
  do {
    auto page = ask(user, before);
    EXPECT_TRUE(page.ok() && page.value().has_value());
    if (!page.ok() || !page.value()) break;
    pages.push_back(*page.value());
    before = pages.back().next_before;
  } while (before != 0 && pages.size() < 20);
  return pages;
}

TEST_F(ModelLedgerRecordsDifferentialTest, HistoryPagesAgree) {
  ASSERT_NO_FATAL_FAILURE(write_ledger());

  using Page = std::optional<persistence::HistoryPage>;
  for (const auto& user : users_) {
    auto real = all_pages(user, [this](const std::string& u, int64_t before) {
      return on_postgres<Page>(
          [&](auto done) { postgres_records_.history_page(u, 3, before, done); });
    });
    auto modelled = all_pages(user, [this](const std::string& u, int64_t before) {
      return on_model<Page>(*model_,
                            [&](auto done) { model_records_.history_page(u, 3, before, done); });
    });
    ASSERT_EQ(real.size(), modelled.size()) << user;
    for (size_t p = 0; p < real.size(); ++p) {
      EXPECT_EQ(real[p].exponent, modelled[p].exponent);
      EXPECT_EQ(real[p].next_before == 0, modelled[p].next_before == 0);
      ASSERT_EQ(real[p].rows.size(), modelled[p].rows.size()) << user << " page " << p;
      for (size_t r = 0; r < real[p].rows.size(); ++r) {
        const auto &a = real[p].rows[r], &b = modelled[p].rows[r];
        EXPECT_EQ(a.id, b.id);
        EXPECT_EQ(a.change, b.change);
        EXPECT_EQ(a.old_balance, b.old_balance);
        EXPECT_EQ(a.new_balance, b.new_balance);
        EXPECT_EQ(a.kind, b.kind);
        EXPECT_EQ(a.transfer_id, b.transfer_id);
      }
    }
  }
  auto no_history = on_model<Page>(
      *model_, [&](auto done) { model_records_.history_page(domain::new_uuid_v4(), 3, 0, done); });
  ASSERT_TRUE(no_history.ok());
  EXPECT_FALSE(no_history.value().has_value());
}

TEST_F(ModelLedgerRecordsDifferentialTest, AccountViewsAgree) {
  ASSERT_NO_FATAL_FAILURE(write_ledger());

  using Views = std::vector<persistence::AccountView>;
  std::vector<std::string> asked = users_;
  asked.push_back(domain::new_uuid_v4());  // no such account
  asked.push_back(users_[0]);              // asked twice
  auto real_views =
      on_postgres<Views>([&](auto done) { postgres_records_.account_views(asked, done); });
  auto model_views =
      on_model<Views>(*model_, [&](auto done) { model_records_.account_views(asked, done); });
  ASSERT_TRUE(real_views.ok() && model_views.ok());
  auto by_id = [](Views views) {
    std::map<std::string, persistence::AccountView> map;
    for (auto& view : views) map[view.account_id] = view;
    return map;
  };
  const auto real_map = by_id(real_views.value()), model_map = by_id(model_views.value());
  ASSERT_EQ(real_views.value().size(), model_views.value().size());
  for (const auto& [id, a] : real_map) {
    ASSERT_EQ(model_map.count(id), 1u) << id;
    const auto& b = model_map.at(id);
    EXPECT_EQ(a.user_id, b.user_id);
    EXPECT_EQ(a.currency, b.currency);
    EXPECT_EQ(a.exponent, b.exponent);
    EXPECT_EQ(a.balance, b.balance) << id;
    EXPECT_EQ(a.held, b.held) << id;
    EXPECT_EQ(a.overdraft_limit, b.overdraft_limit);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.metadata, b.metadata);
  }
}

TEST_F(ModelLedgerRecordsDifferentialTest, OpeningAUsersAccountTwiceAgrees) {
  const std::string newcomer = domain::new_uuid_v4();
  for (auto expected :
       {persistence::AccountOpening::opened, persistence::AccountOpening::already_open}) {
    std::promise<persistence::AccountOpening> real;
    postgres_records_.open_account(newcomer, "2026-12-07T00:00:00Z",
                                   [&real](auto opening) { real.set_value(opening); });
    std::optional<persistence::AccountOpening> modelled;
    model_records_.open_account(newcomer, "2026-12-07T00:00:00Z",
                                [&modelled](auto opening) { modelled = opening; });
    ASSERT_EQ(model_->pending().size(), 1u);
    auto op = std::move(model_->pending().front());
    model_->pending().pop_front();
    op.complete(simulation::Fault::none);
    EXPECT_EQ(real.get_future().get(), expected);
    EXPECT_EQ(modelled, expected);
  }
}

TEST_F(ModelLedgerRecordsDifferentialTest, TransfersInTransitAgree) {
  ASSERT_NO_FATAL_FAILURE(write_ledger());

  using Summary = persistence::InTransitSummary;
  auto real =
      on_postgres<Summary>([&](auto done) { postgres_records_.in_transit_summary(10, done); });
  auto modelled =
      on_model<Summary>(*model_, [&](auto done) { model_records_.in_transit_summary(10, done); });
  ASSERT_TRUE(real.ok() && modelled.ok());
  EXPECT_EQ(real->count, 1);
  EXPECT_EQ(real->count, modelled->count);
  EXPECT_EQ(real->total, modelled->total);
  ASSERT_EQ(real->by_currency.size(), modelled->by_currency.size());
  for (size_t i = 0; i < real->by_currency.size(); ++i) {
    EXPECT_EQ(real->by_currency[i].code, modelled->by_currency[i].code);
    EXPECT_EQ(real->by_currency[i].exponent, modelled->by_currency[i].exponent);
    EXPECT_EQ(real->by_currency[i].total, modelled->by_currency[i].total);
  }
  ASSERT_EQ(real->oldest.size(), modelled->oldest.size());
  EXPECT_EQ(real->oldest[0].transfer_id, modelled->oldest[0].transfer_id);
  EXPECT_EQ(real->oldest[0].amount, modelled->oldest[0].amount);
}

TEST_F(ModelLedgerRecordsDifferentialTest, HoldSweepsAgree) {
  ASSERT_NO_FATAL_FAILURE(write_ledger());

  // The sweep: of every account, then of the partition of the overdue hold's payer, then of
  // another partition only.
  const int payer_partition = domain::partition_of(users_[0], kPartitions);
  auto mine = std::make_shared<persistence::OwnedPartitions>("instance-a", kPartitions);
  mine->hold(payer_partition, 1);
  auto others = std::make_shared<persistence::OwnedPartitions>("instance-b", kPartitions);
  others->hold((payer_partition + 1) % kPartitions, 1);
  for (const auto& only : {std::shared_ptr<persistence::OwnedPartitions>(), mine, others}) {
    using Sweep = persistence::ExpirySweep;
    auto a = on_postgres<Sweep>(
        [&](auto done) { postgres_records_.sweep_overdue_holds(10, only, done); });
    auto b = on_model<Sweep>(
        *model_, [&](auto done) { model_records_.sweep_overdue_holds(10, only, done); });
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->pending, 2);
    EXPECT_EQ(a->pending, b->pending);
    ASSERT_EQ(a->overdue.size(), b->overdue.size());
    EXPECT_EQ(a->overdue.size(), only == others ? 0u : 1u);
    for (size_t i = 0; i < a->overdue.size(); ++i) {
      EXPECT_EQ(a->overdue[i].hold_id, overdue_hold_);
      EXPECT_EQ(a->overdue[i].hold_id, b->overdue[i].hold_id);
      EXPECT_EQ(a->overdue[i].amount, b->overdue[i].amount);
    }
  }
}

TEST_F(ModelLedgerRecordsDifferentialTest, PartitionsTakenAndListedAgree) {
  // Taken twice (each take bumps the epoch), then listed.
  persistence::init_partitions(db_, kPartitions);
  model_->shared_state().create_partitions(kPartitions);
  using Epochs = std::vector<std::pair<int, int64_t>>;
  for (int round = 0; round < 2; ++round) {
    auto a = on_postgres<Epochs>([&](auto done) {
      postgres_records_.take_partitions({1, 3}, "instance-a", done);
    });
    auto b = on_model<Epochs>(*model_, [&](auto done) {
      model_records_.take_partitions({1, 3}, "instance-a", done);
    });
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a.value(), b.value());
  }
  using Owners = std::vector<persistence::PartitionOwner>;
  auto a = on_postgres<Owners>([&](auto done) { postgres_records_.list_partitions(done); });
  auto b = on_model<Owners>(*model_, [&](auto done) { model_records_.list_partitions(done); });
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), static_cast<size_t>(kPartitions));
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].partition, (*b)[i].partition);
    EXPECT_EQ((*a)[i].owner, (*b)[i].owner);
    EXPECT_EQ((*a)[i].epoch, (*b)[i].epoch);
  }
  EXPECT_EQ((*a)[1].owner, "instance-a");
  EXPECT_EQ((*a)[1].epoch, 2);
}

}  // namespace
}  // namespace wallet
