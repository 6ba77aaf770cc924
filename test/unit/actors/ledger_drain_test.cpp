// Ledger::drain (the shutdown's wait for what was accepted): at once with nothing in flight; with
// an operation whose store call has not come back, false at the deadline; true once it is answered.
// The real actors over the simulation's model store, under CAF's test scheduler: nothing runs
// unless the test runs it, so an operation stays in flight exactly as long as the test wants.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/ledger.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::actors {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Account ids are UUIDs (the account actor reads parts of them).
const std::string kAccount = "00000000-0000-4000-8000-000000000001";

std::unique_ptr<caf::actor_system_config> testing_config() {
  auto config = std::make_unique<caf::actor_system_config>();
  config->set("scheduler.policy", caf::atom("testing"));
  config->set("logger.console", caf::atom("none"));
  return config;
}

class LedgerDrainTest : public ::testing::Test {
 protected:
  LedgerDrainTest()
      : config_(testing_config()),
        system_(*config_),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(system_.scheduler())) {
    // Nothing runs the actors once the test is over: do not wait for them at destruction.
    system_.await_actors_before_shutdown(false);
    simulation::ModelState state;
    state.balances[kAccount] = 0;
    model_ = std::make_shared<simulation::ModelLedger>(std::move(state), 1);
    LedgerOptions options;
    options.purge_every = 0ms;
    options.sweep_holds = false;
    options.arrivals_every = 0ms;
    options.resolve_every = 0ms;
    ledger_ = std::make_unique<Ledger>(system_, nullptr, model_, options);
  }

  // Completes the store's pending calls and runs the actors until nothing is left to do.
  void settle() {
    for (int round = 0; round < 100; ++round) {
      sched_.run();
      if (model_->pending().empty()) return;
      auto op = std::move(model_->pending().front());
      model_->pending().pop_front();
      op.complete(simulation::Fault::none);
    }
    ADD_FAILURE() << "the store still has calls pending after 100 rounds";
  }

  std::unique_ptr<caf::actor_system_config> config_;
  caf::actor_system system_;
  caf::scheduler::test_coordinator& sched_;
  std::shared_ptr<simulation::ModelLedger> model_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerDrainTest, ReturnsAtOnceWhenNothingIsInFlight) {
  const auto started = Clock::now();
  EXPECT_TRUE(ledger_->drain(started + 10s));
  EXPECT_LT(Clock::now() - started, 1s);
}

TEST_F(LedgerDrainTest, GivesUpAtTheDeadlineUntilTheOperationInFlightIsAnswered) {
  std::optional<Reply> answer;
  ledger_->deposit(DepositCommand{kAccount, 100, std::nullopt,
                                  [&answer](Reply reply) { answer = std::move(reply); }});
  sched_.run();  // the account actor asks the store for the account, which does not answer yet
  ASSERT_FALSE(model_->pending().empty());
  ASSERT_EQ(ledger_->in_flight(), 1u);

  const auto started = Clock::now();
  EXPECT_FALSE(ledger_->drain(started + 100ms));
  EXPECT_GE(Clock::now() - started, 100ms);
  EXPECT_FALSE(answer.has_value());

  settle();  // the load, then the commit
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 200);
  EXPECT_EQ(ledger_->in_flight(), 0u);
  EXPECT_TRUE(ledger_->drain(Clock::now()));
  EXPECT_EQ(model_->state().balances.at(kAccount), 100);
}

TEST_F(LedgerDrainTest, RefusedOperationsAreNotWaitedFor) {
  ledger_->refuse_new();
  std::optional<Reply> answer;
  ledger_->deposit(DepositCommand{kAccount, 100, std::nullopt,
                                  [&answer](Reply reply) { answer = std::move(reply); }});
  sched_.run();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 503);
  EXPECT_TRUE(ledger_->drain(Clock::now()));
}

}  // namespace
}  // namespace wallet::actors
