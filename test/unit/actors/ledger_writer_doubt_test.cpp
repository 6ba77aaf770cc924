// The LedgerWriter settling a commit in doubt whose surest trace is an outcome (refusals stored
// under their keys, no row), over the simulation's model store under CAF's test scheduler. Since a
// new key runs without a lookup, an outcome equal byte for byte to one being committed may already
// be stored under its key by an earlier request (which then refuses the commit, WL011), with an age
// of its own: whether the unit committed or not, each request is answered `key_taken` and
// `read_back`, so that the IdempotencyGate reads its key back until it knows (the stored outcome
// with its true age, or nothing: retry), never as a commit of its own.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/ledger_writer.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::actors {
namespace {

std::unique_ptr<caf::actor_system_config> testing_config() {
  auto config = std::make_unique<caf::actor_system_config>();
  config->set("scheduler.policy", caf::atom("testing"));
  config->set("logger.console", caf::atom("none"));
  return config;
}

persistence::IdempotencyOutcome refusal(const std::string& key) {
  return {"/transferMoney", key, "hash-" + key, 409, R"({"error":{"code":"insufficient_funds"}})"};
}

class LedgerWriterDoubtTest : public ::testing::Test {
 protected:
  LedgerWriterDoubtTest()
      : config_(testing_config()),
        system_(*config_),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(system_.scheduler())) {
    system_.await_actors_before_shutdown(false);
  }

  // Two refusals, each stored under its key only (no row), submitted together: one batch. The
  // batch's commit meets `fault`; the writer's questions about it are answered truly.
  void write_two_refusals(simulation::ModelState state, simulation::Fault fault) {
    model_ = std::make_shared<simulation::ModelLedger>(std::move(state), 1);
    auto writer = system_.spawn(ledger_writer, std::shared_ptr<persistence::LedgerBackend>(model_),
                                size_t{512}, nullptr, std::make_shared<LedgerGauges>());
    for (const char* key : {"k1", "k2"}) {
      WriteRequest request;
      request.mutation.outcome = refusal(key);
      request.on_commit = Reply{domain::Encoded{409, refusal(key).body}};
      request.reply = [this](Reply r) { answers_.push_back(std::move(r)); };
      caf::anon_send(writer, submit_atom::value, std::move(request));
    }
    for (int round = 0; round < 20 && answers_.size() < 2; ++round) {
      sched_.run();
      if (model_->pending().empty()) continue;
      auto op = std::move(model_->pending().front());
      model_->pending().pop_front();
      op.complete(op.is_apply ? fault : simulation::Fault::none);
    }
    sched_.run();
    ASSERT_EQ(answers_.size(), 2u);
    anon_send_exit(writer, caf::exit_reason::user_shutdown);
  }

  std::unique_ptr<caf::actor_system_config> config_;
  caf::actor_system system_;
  caf::scheduler::test_coordinator& sched_;
  std::shared_ptr<simulation::ModelLedger> model_;
  std::vector<Reply> answers_;
};

TEST_F(LedgerWriterDoubtTest, AnEqualOutcomeStoredEarlierDoesNotMakeALostBatchCommitted) {
  simulation::ModelState state;
  // k1 holds an outcome equal to the one the batch carries (another request's, stored before).
  state.outcomes[{"/transferMoney", "k1"}] = refusal("k1");
  state.outcome_created_ms[{"/transferMoney", "k1"}] = 0;
  write_two_refusals(std::move(state), simulation::Fault::in_doubt_lost);
  // Nothing of the batch was written: k2 holds nothing, so neither may be answered as stored.
  EXPECT_EQ(model_->state().outcomes.count({"/transferMoney", "k2"}), 0u);
  for (const auto& answer : answers_) {
    EXPECT_FALSE(answer.durable) << answer.body();
    EXPECT_TRUE(answer.key_taken) << answer.body();
    EXPECT_TRUE(answer.read_back) << answer.body();
    EXPECT_EQ(answer.status(), 503) << answer.body();
  }
}

TEST_F(LedgerWriterDoubtTest, ABatchOfOutcomesThatCommittedIsReadBackNotAnsweredAsItsOwn) {
  write_two_refusals(simulation::ModelState{}, simulation::Fault::in_doubt_committed);
  EXPECT_EQ(model_->state().outcomes.size(), 2u);
  for (const auto& answer : answers_) {
    EXPECT_FALSE(answer.durable) << answer.body();
    EXPECT_TRUE(answer.key_taken) << answer.body();
    EXPECT_TRUE(answer.read_back) << answer.body();
  }
}

}  // namespace
}  // namespace wallet::actors
