// The Ledger's reads outside the account protocol (LedgerRecords) over the simulation's model,
// under CAF's test scheduler: history pages newest first, the partitions' owners, the transfers in
// transit, and the hold sweep expiring an overdue hold of an account no actor has loaded. Each
// answer comes only once the test completes the model's pending call, as the pool's would.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/ledger.hpp"
#include "test/simulation/model_ledger.hpp"
#include "test/simulation/model_ledger_records.hpp"

namespace wallet::actors {
namespace {

using namespace std::chrono_literals;

// Account ids are UUIDs (the account actor reads parts of them).
const std::string kAccount = "00000000-0000-4000-8000-000000000001";
const std::string kPayee = "00000000-0000-4000-8000-000000000002";
const std::string kHold = "00000000-0000-4000-8000-0000000000a1";

std::unique_ptr<caf::actor_system_config> testing_config() {
  auto config = std::make_unique<caf::actor_system_config>();
  config->set("scheduler.policy", caf::atom("testing"));
  config->set("logger.console", caf::atom("none"));
  return config;
}

class LedgerRecordsTest : public ::testing::Test {
 protected:
  LedgerRecordsTest()
      : config_(testing_config()),
        system_(*config_),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(system_.scheduler())) {
    system_.await_actors_before_shutdown(false);
  }

  // The model holds `state`; the hold sweep runs when `sweep` (its first sweep at once).
  void start(simulation::ModelState state, bool sweep = false) {
    model_ = std::make_shared<simulation::ModelLedger>(std::move(state), 1);
    model_->set_clock([] { return int64_t{1'000'000}; });
    LedgerOptions options;
    options.purge_every = 0ms;
    options.sweep_holds = sweep;
    options.server_check_every = 0ms;
    options.arrivals_every = 0ms;
    options.resolve_every = 0ms;
    ledger_ = std::make_unique<Ledger>(
        system_, std::make_shared<simulation::ModelLedgerRecords>(model_), model_, options);
  }

  // Completes the store's pending calls (with `fault`) and runs the actors until nothing is left.
  void settle(simulation::Fault fault = simulation::Fault::none) {
    for (int round = 0; round < 100; ++round) {
      sched_.run();
      if (model_->pending().empty()) return;
      auto op = std::move(model_->pending().front());
      model_->pending().pop_front();
      op.complete(fault);
    }
    ADD_FAILURE() << "the store still has calls pending after 100 rounds";
  }

  void deposit(int64_t amount) {
    std::optional<Reply> answer;
    ledger_->deposit(
        DepositCommand{kAccount, amount, std::nullopt, [&answer](Reply r) { answer = r; }});
    settle();
    ASSERT_TRUE(answer.has_value());
    ASSERT_EQ(answer->status(), 200);
  }

  std::unique_ptr<caf::actor_system_config> config_;
  caf::actor_system system_;
  caf::scheduler::test_coordinator& sched_;
  std::shared_ptr<simulation::ModelLedger> model_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerRecordsTest, HistoryPagesNewestFirstUntilTheLastPage) {
  simulation::ModelState state;
  state.balances[kAccount] = 0;
  start(std::move(state));
  for (int64_t amount : {100, 200, 300}) deposit(amount);

  std::optional<domain::Result<std::optional<HistoryPage>>> first, second;
  ledger_->history(kAccount, 2, 0, [&first](auto page) { first = std::move(page); });
  EXPECT_FALSE(first.has_value());  // not before the store's call completes
  settle();
  ASSERT_TRUE(first && first->ok() && first->value().has_value());
  const HistoryPage& newest = *first->value();
  ASSERT_EQ(newest.rows.size(), 2u);
  EXPECT_EQ(newest.rows[0].change, 300);
  EXPECT_EQ(newest.rows[0].new_balance, 600);
  EXPECT_EQ(newest.rows[1].change, 200);
  EXPECT_EQ(newest.rows[0].kind, "deposit");
  ASSERT_NE(newest.next_before, 0);

  ledger_->history(kAccount, 2, newest.next_before,
                   [&second](auto page) { second = std::move(page); });
  settle();
  ASSERT_TRUE(second && second->ok() && second->value().has_value());
  ASSERT_EQ(second->value()->rows.size(), 1u);
  EXPECT_EQ(second->value()->rows[0].change, 100);
  EXPECT_EQ(second->value()->next_before, 0);
}

TEST_F(LedgerRecordsTest, HistoryOfNoSuchAccountIsNulloptAndAFaultIsAnError) {
  start(simulation::ModelState{});
  std::optional<domain::Result<std::optional<HistoryPage>>> missing, failed;
  ledger_->history(kAccount, 10, 0, [&missing](auto page) { missing = std::move(page); });
  settle();
  ASSERT_TRUE(missing && missing->ok());
  EXPECT_FALSE(missing->value().has_value());

  ledger_->history(kAccount, 10, 0, [&failed](auto page) { failed = std::move(page); });
  settle(simulation::Fault::fail);
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(failed->ok());
}

TEST_F(LedgerRecordsTest, PartitionsAndTransfersInTransitAreReadFromTheStore) {
  simulation::ModelState state;
  state.balances[kAccount] = 0;
  state.create_partitions(3);
  state.take_partition(1, "instance-a");
  state.in_transit["t1"] = persistence::InTransit{"t1", kAccount, kPayee, 250, 1, {}};
  start(std::move(state));

  std::optional<domain::Result<std::vector<PartitionOwner>>> owners;
  std::optional<domain::Result<InTransitSummary>> moving;
  ledger_->partitions([&owners](auto list) { owners = std::move(list); });
  ledger_->in_transit(10, [&moving](auto summary) { moving = std::move(summary); });
  settle();
  ASSERT_TRUE(owners && owners->ok());
  ASSERT_EQ(owners->value().size(), 3u);
  EXPECT_EQ(owners->value()[1].owner, "instance-a");
  EXPECT_EQ(owners->value()[1].epoch, 1);
  EXPECT_EQ(owners->value()[0].owner, "");
  ASSERT_TRUE(moving && moving->ok());
  EXPECT_EQ(moving->value().count, 1);
  EXPECT_EQ(moving->value().total, 250);
  ASSERT_EQ(moving->value().oldest.size(), 1u);
  EXPECT_EQ(moving->value().oldest[0].transfer_id, "t1");
}

TEST_F(LedgerRecordsTest, SweepExpiresAnOverdueHoldOfAnAccountNotLoaded) {
  simulation::ModelState state;
  state.balances[kAccount] = 100;
  state.balances[kPayee] = 0;
  persistence::HoldRecord hold;
  hold.hold_id = kHold;
  hold.from_user_id = kAccount;
  hold.to_user_id = kPayee;
  hold.amount = 40;
  hold.expires_at_ms = 1;  // long past
  state.holds[kHold] = hold;
  start(std::move(state), /*sweep=*/true);

  settle();  // the sweep, the payer's load, the expiry's commit
  EXPECT_EQ(model_->state().holds.at(kHold).status, "expired");
  EXPECT_EQ(ledger_->gauges().holds_pending.load(), 1);  // as the sweep counted, before it
  EXPECT_EQ(model_->state().balances.at(kAccount), 100);
}

}  // namespace
}  // namespace wallet::actors
