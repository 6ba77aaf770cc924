// Regressions of the account protocol on real Postgres, each beside the simulation seed that finds
// it when the fix is taken out (test/simulation, the negative-control builds):
//  - WedgedAccountReloadsAfterItsCommitFailedWhileLocked (wallet-simulate-bug-wedge, seed 6): a
//    deposit's commit fails while its account is locked by a transfer waiting for a loading
//    partner; the account must reload when the transfer releases it, not wedge for good.
//  - RefusalWaitsForInFlightDebitThatThenFails (wallet-simulate-bug-early-refusal, seed 15): a
//    keyed transfer that would be refused only because of a debit still in the writer must wait
//    for it; when that debit's commit fails, the transfer succeeds instead of storing a 409 that
//    Postgres never justified.
// Both make the writer's commit stall behind a table lock held by the test, then terminate its
// backend (the commit fails; the writer looks the batch up and finds it absent).
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "test/support/environment.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet {
namespace {

using actors::Reply;
using namespace std::chrono_literals;
using test::create_accounts;
using test::db_balance;

class ProtocolRegressionTest : public ::testing::Test {
 protected:
  ProtocolRegressionTest()
      : schema_(test::transaction_db_url(), "transaction_service"),
        pool_(schema_.url(), 2, 1'000),
        db_(schema_.url()) {
    actors::LedgerOptions options;
    options.request_deadline = 60s;  // these tests stall commits on purpose
    auto backend = std::make_shared<persistence::PostgresLedgerBackend>(
        pool_, persistence::PostgresLedgerOptions{schema_.url()});
    ledger_ = std::make_unique<actors::Ledger>(
        system_, std::make_shared<persistence::PostgresLedgerRecords>(pool_), backend, options);
  }
  ~ProtocolRegressionTest() override { ledger_.reset(); }

  std::future<Reply> deposit(const std::string& user, int64_t amount) {
    auto promise = std::make_shared<std::promise<Reply>>();
    ledger_->deposit({user, amount, std::nullopt, [promise](Reply r) { promise->set_value(r); }});
    return promise->get_future();
  }
  std::future<Reply> transfer(const std::string& from, const std::string& to, int64_t amount,
                              std::optional<actors::IdempotencyTag> tag = std::nullopt) {
    auto promise = std::make_shared<std::promise<Reply>>();
    ledger_->transfer({from, to, amount, tag, [promise](Reply r) { promise->set_value(r); }});
    return promise->get_future();
  }
  static Reply await(std::future<Reply>& f, std::chrono::seconds limit = 20s) {
    if (f.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within " << limit.count() << " s";
      return Reply{};
    }
    return f.get();
  }

  std::optional<actors::AccountSnapshot> snapshot(const std::string& user) {
    auto promise = std::make_shared<std::promise<std::vector<actors::AccountSnapshot>>>();
    ledger_->inspect({user, [promise](auto s) { promise->set_value(std::move(s)); }});
    auto all = promise->get_future().get();
    if (all.empty()) return std::nullopt;
    return all.front();
  }

  // Loads the account's actor (a balance query), so later work does not wait for a load.
  void warm(const std::string& user) {
    auto promise = std::make_shared<std::promise<bool>>();
    ledger_->balance({user, [promise](domain::Result<int64_t> r) { promise->set_value(r.ok()); }});
    auto loaded = promise->get_future();
    ASSERT_EQ(loaded.wait_for(10s), std::future_status::ready);
    ASSERT_TRUE(loaded.get());
  }

  // Waits until `predicate` holds, polling; false after 10 s.
  template <class F>
  static bool eventually(F predicate) {
    for (int i = 0; i < 200; ++i) {
      if (predicate()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // The writer's backend, once it waits on our table lock.
  int blocked_writer_pid(pqxx::connection& observer) {
    int pid = 0;
    eventually([&] {
      pqxx::nontransaction q(observer);
      auto rows = q.exec(
          "SELECT pid FROM pg_stat_activity WHERE query LIKE '%ledger_commit_%'"
          " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
      if (rows.empty()) return false;
      pid = rows[0][0].as<int>();
      return true;
    });
    return pid;
  }

  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  test::ScratchSchema schema_;
  persistence::DbPool pool_;
  pqxx::connection db_;
  std::unique_ptr<actors::Ledger> ledger_;
};

TEST_F(ProtocolRegressionTest, WedgedAccountReloadsAfterItsCommitFailedWhileLocked) {
  auto ids = create_accounts(db_, 2);
  std::sort(ids.begin(), ids.end());
  const auto& a = ids[0];  // locked first by every transfer between the two
  const auto& b = ids[1];
  ASSERT_FALSE(snapshot(a).has_value());
  {
    auto warm = deposit(a, 1'000);  // A is loaded (B stays unloaded)
    ASSERT_EQ(await(warm).status(), 200);
  }
  pqxx::connection locker(schema_.url());
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");

  auto stuck = deposit(a, 500);  // waits in the writer behind the lock
  pqxx::connection observer(schema_.url());
  const int writer_pid = blocked_writer_pid(observer);
  ASSERT_NE(writer_pid, 0) << "the deposit never reached Postgres";
  auto refused = transfer(b, a, 700);  // locks A, then waits for B's load (also blocked)
  ASSERT_TRUE(eventually([&] {
    auto s = snapshot(a);
    return s && s->state == "waiting_on_transfer";
  })) << "the transfer never locked A";

  pqxx::nontransaction(observer).exec("SELECT pg_terminate_backend(" + std::to_string(writer_pid) +
                                      ")");
  Reply failed = await(stuck);
  EXPECT_EQ(failed.status(), 503) << failed.body();  // known not committed after the lookup
  lock.commit();                                     // B loads 0.00 and refuses
  Reply no_money = await(refused);
  EXPECT_EQ(no_money.status(), 409) << no_money.body();

  // The fix: A reloaded when the transfer released it, and answers at once.
  auto after = deposit(a, 100);
  Reply ok = await(after, 5s);
  EXPECT_EQ(ok.status(), 200) << ok.body();
  EXPECT_EQ(db_balance(db_, a), "11.00");
  ASSERT_TRUE(eventually([&] {
    auto s = snapshot(a);
    return s && s->state == "idle" && s->stashed == 0 && s->balance == s->pending_balance;
  })) << "A is still not idle";
  EXPECT_TRUE(test::ledger_violations(db_, ids).empty());
}

TEST_F(ProtocolRegressionTest, RefusalWaitsForInFlightDebitThatThenFails) {
  auto ids = create_accounts(db_, 3);
  const auto& a = ids[0];
  {
    auto funded = deposit(a, 10'000);  // A holds 100.00
    ASSERT_EQ(await(funded).status(), 200);
  }
  warm(ids[1]);
  warm(ids[2]);
  pqxx::connection locker(schema_.url());
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");

  auto t1 = transfer(a, ids[1], 10'000);  // A -> B 100.00, stalls in the writer
  pqxx::connection observer(schema_.url());
  const int writer_pid = blocked_writer_pid(observer);
  ASSERT_NE(writer_pid, 0);
  const actors::IdempotencyTag key{"/transferMoney", domain::new_uuid_v4(), "t2"};
  auto t2 = transfer(a, ids[2], 5'000, key);  // A -> C 50.00: must wait, not refuse
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(t2.wait_for(0s), std::future_status::timeout) << "T2 was decided on pending money";

  pqxx::nontransaction(observer).exec("SELECT pg_terminate_backend(" + std::to_string(writer_pid) +
                                      ")");
  Reply first = await(t1);
  EXPECT_EQ(first.status(), 503) << first.body();
  lock->commit();
  Reply second = await(t2);
  EXPECT_EQ(second.status(), 200) << second.body();  // Postgres always held 100.00 for A
  EXPECT_EQ(db_balance(db_, a), "50.00");
  // K replays the success, never a 409.
  auto replay = transfer(a, ids[2], 5'000, key);
  Reply again = await(replay);
  EXPECT_EQ(again.status(), 200);
  EXPECT_EQ(again.body(), second.body());
  EXPECT_TRUE(test::ledger_violations(db_, ids).empty());
}

}  // namespace
}  // namespace wallet
