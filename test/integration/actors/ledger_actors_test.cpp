// The ledger's actor protocol against the real Postgres: account actors, transfer coordinators,
// the group-commit writer and the idempotency gate, driven through the Ledger facade and, for the
// locking rules, directly with a CAF scoped actor standing in for a coordinator.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "persistence/migrations.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "test/support/environment.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

using actors::Reply;
using namespace std::chrono_literals;

class LedgerActorsTest : public ::testing::Test {
 protected:
  void SetUp() override { start_ledger(60'000ms); }
  void TearDown() override { ledger_.reset(); }

  void start_ledger(std::chrono::milliseconds idle_after, size_t write_lanes = 1,
                    size_t max_batch = 512) {
    ASSERT_TRUE(persistence::apply_migrations(schema_->url(),
                                              WALLET_SOURCE_DIR "/schema/transaction_service"));
    actors::LedgerOptions options;
    options.idle_after = idle_after;
    options.max_batch = max_batch;
    persistence::PostgresLedgerOptions store{schema_->url()};
    store.write_lanes = write_lanes;
    auto backend = std::make_shared<persistence::PostgresLedgerBackend>(pool_, store);
    ledger_ = std::make_unique<actors::Ledger>(
        system_, std::make_shared<persistence::PostgresLedgerRecords>(pool_), backend, options);
  }

  static std::optional<actors::IdempotencyTag> key(const std::string& endpoint,
                                                   const std::string& k, const std::string& hash) {
    return actors::IdempotencyTag{endpoint, k, hash};
  }

  std::future<Reply> deposit_async(const std::string& user_id, int64_t amount,
                                   std::optional<actors::IdempotencyTag> tag = std::nullopt) {
    auto promise = std::make_shared<std::promise<Reply>>();
    actors::DepositCommand command{user_id, amount, std::move(tag), [promise](Reply reply) {
                                     promise->set_value(std::move(reply));
                                   }};
    ledger_->deposit(std::move(command));
    return promise->get_future();
  }

  std::future<Reply> transfer_async(const std::string& from, const std::string& to, int64_t amount,
                                    std::optional<actors::IdempotencyTag> tag = std::nullopt) {
    auto promise = std::make_shared<std::promise<Reply>>();
    actors::TransferCommand command{from, to, amount, std::move(tag), [promise](Reply reply) {
                                      promise->set_value(std::move(reply));
                                    }};
    ledger_->transfer(std::move(command));
    return promise->get_future();
  }

  static Reply wait(std::future<Reply> future) {
    if (future.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "no reply within 20 s";
      return Reply{};
    }
    return future.get();
  }

  domain::Result<int64_t> actor_balance(const std::string& user_id) {
    auto promise = std::make_shared<std::promise<domain::Result<int64_t>>>();
    ledger_->balance({user_id, [promise](domain::Result<int64_t> r) { promise->set_value(r); }});
    auto future = promise->get_future();
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    return future.get();
  }

  std::vector<actors::AccountSnapshot> snapshots() {
    auto promise = std::make_shared<std::promise<std::vector<actors::AccountSnapshot>>>();
    ledger_->inspect({std::nullopt, [promise](auto s) { promise->set_value(std::move(s)); }});
    return promise->get_future().get();
  }

  static std::string field(const Reply& reply, const char* name) {
    return nlohmann::json::parse(reply.body()).at(name).get<std::string>();
  }

  // A schema of their own (one for the suite, dropped after it): these tests plant defects (a
  // balance its rows do not add up to) that must never reach the stack's ledger, which a user's
  // services serve.
  static void SetUpTestSuite() {
    schema_ = std::make_unique<ScratchSchema>(transaction_db_url(), "transaction_service");
  }
  static void TearDownTestSuite() { schema_.reset(); }
  static inline std::unique_ptr<ScratchSchema> schema_;

  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  persistence::DbPool pool_{schema_->url(), 2, 10'000};
  std::unique_ptr<actors::Ledger> ledger_;
  pqxx::connection db_{schema_->url()};
};

TEST_F(LedgerActorsTest, DepositAndTransferAnswerAfterCommitWithExactBalances) {
  auto ids = create_accounts(db_, 2);
  Reply deposited = wait(deposit_async(ids[0], 10'050));
  ASSERT_EQ(deposited.status(), 200) << deposited.body();
  EXPECT_EQ(field(deposited, "updated_balance"), "100.50");
  EXPECT_EQ(db_balance(db_, ids[0]), "100.50");  // durable before the reply

  Reply moved = wait(transfer_async(ids[0], ids[1], 2'525));
  ASSERT_EQ(moved.status(), 200) << moved.body();
  EXPECT_EQ(field(moved, "from_balance"), "75.25");
  EXPECT_EQ(field(moved, "amount"), "25.25");
  EXPECT_EQ(db_balance(db_, ids[0]), "75.25");
  EXPECT_EQ(db_balance(db_, ids[1]), "25.25");
  EXPECT_TRUE(ledger_violations(db_, ids).empty());
}

TEST_F(LedgerActorsTest, UnknownAccountIsUserNotFoundAndChangesNothing) {
  auto ids = create_accounts(db_, 1);
  const std::string ghost = domain::new_uuid_v4();
  EXPECT_EQ(wait(deposit_async(ghost, 100)).status(), 404);
  ASSERT_EQ(wait(deposit_async(ids[0], 100)).status(), 200);
  Reply refused = wait(transfer_async(ids[0], ghost, 50));
  EXPECT_EQ(refused.status(), 404);
  EXPECT_NE(refused.body().find("user_not_found"), std::string::npos);
  EXPECT_EQ(db_balance(db_, ids[0]), "1.00");
  EXPECT_EQ(actor_balance(ids[0]).value(), 100);  // the aborted reservation was undone
}

TEST_F(LedgerActorsTest, InsufficientFundsIsRefusedAndReplayedForItsKey) {
  auto ids = create_accounts(db_, 2);
  auto tag = key("transferMoney", domain::new_uuid_v4(), "h1");
  Reply first = wait(transfer_async(ids[0], ids[1], 500, tag));
  EXPECT_EQ(first.status(), 409);
  EXPECT_NE(first.body().find("insufficient_funds"), std::string::npos);
  ASSERT_EQ(wait(deposit_async(ids[0], 1'000)).status(), 200);
  // Funds arrived since, but a retry of the same request must not turn the rejection into a
  // success.
  Reply retry = wait(transfer_async(ids[0], ids[1], 500, tag));
  EXPECT_EQ(retry.status(), 409);
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.body(), first.body());
  EXPECT_EQ(db_balance(db_, ids[1]), "0.00");
}

TEST_F(LedgerActorsTest, ConcurrentDuplicatesExecuteOnceAndReplayTheSameBody) {
  auto ids = create_accounts(db_, 1);
  auto tag = key("addMoney", domain::new_uuid_v4(), "same");
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 50; ++i) replies.push_back(deposit_async(ids[0], 700, tag));
  int originals = 0;
  std::string body;
  for (auto& reply : replies) {
    Reply r = wait(std::move(reply));
    ASSERT_EQ(r.status(), 200) << r.body();
    if (!r.replayed) ++originals;
    if (body.empty()) body = r.body();
    EXPECT_EQ(r.body(), body);
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(db_balance(db_, ids[0]), "7.00");
  EXPECT_EQ(
      count_rows(db_, "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])", ids), 1);
}

TEST_F(LedgerActorsTest, SameKeyWithAnotherRequestIsRefusedWith422) {
  auto ids = create_accounts(db_, 1);
  const std::string k = domain::new_uuid_v4();
  ASSERT_EQ(wait(deposit_async(ids[0], 100, key("addMoney", k, "a"))).status(), 200);
  Reply other = wait(deposit_async(ids[0], 200, key("addMoney", k, "b")));
  EXPECT_EQ(other.status(), 422);
  EXPECT_NE(other.body().find("idempotency_key_mismatch"), std::string::npos);
  // Keys are scoped per endpoint: the same key on transferMoney is a new operation.
  auto ids2 = create_accounts(db_, 1);
  EXPECT_EQ(wait(transfer_async(ids[0], ids2[0], 50, key("transferMoney", k, "c"))).status(), 200);
  EXPECT_EQ(db_balance(db_, ids[0]), "0.50");
}

TEST_F(LedgerActorsTest, KeyStoredByAnEarlierRunIsReplayedFromPostgres) {
  auto ids = create_accounts(db_, 1);
  auto tag = key("addMoney", domain::new_uuid_v4(), "restart");
  Reply first = wait(deposit_async(ids[0], 300, tag));
  ASSERT_EQ(first.status(), 200);
  // A new ledger (a restarted service) has no memory of the key: only Postgres does.
  ledger_.reset();
  start_ledger(60'000ms);
  Reply again = wait(deposit_async(ids[0], 300, tag));
  EXPECT_EQ(again.status(), 200);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(db_balance(db_, ids[0]), "3.00");
}

TEST_F(LedgerActorsTest, OpposingTransfersBetweenTwoAccountsAllFinish) {
  auto ids = create_accounts(db_, 2);
  ASSERT_EQ(wait(deposit_async(ids[0], 100'000)).status(), 200);
  ASSERT_EQ(wait(deposit_async(ids[1], 100'000)).status(), 200);
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 1'000; ++i) {
    replies.push_back(transfer_async(ids[0], ids[1], 37));
    replies.push_back(transfer_async(ids[1], ids[0], 41));
  }
  for (auto& reply : replies) EXPECT_EQ(wait(std::move(reply)).status(), 200);
  EXPECT_EQ(db_balance(db_, ids[0]), std::to_string((100'000 + 1'000 * (41 - 37)) / 100) + ".00");
  EXPECT_TRUE(ledger_violations(db_, ids).empty());
}

// Several write lanes: batches are written at once on their own connections, and none shares an
// account with another in flight, so every account's chain of balances stays gap-free and every
// transfer commits (a batch that overtook another of the same account would be refused: WL001).
// Small batches over many accounts, so that a second batch finds accounts the first does not hold.
TEST_F(LedgerActorsTest, TransfersOnSeveralWriteLanesAllCommitWithUnbrokenChains) {
  ledger_.reset();
  start_ledger(60'000ms, 4, 8);
  auto ids = create_accounts(db_, 200);
  for (const auto& id : ids) ASSERT_EQ(wait(deposit_async(id, 1'000'000)).status(), 200);
  std::mt19937 rng(7);
  std::vector<int64_t> expected(ids.size(), 1'000'000);
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 3'000; ++i) {
    const size_t from = rng() % ids.size();
    const size_t to = (from + 1 + rng() % (ids.size() - 1)) % ids.size();
    const int64_t amount = 1 + static_cast<int64_t>(rng() % 500);
    expected[from] -= amount;
    expected[to] += amount;
    replies.push_back(transfer_async(ids[from], ids[to], amount));
  }
  for (auto& reply : replies) {
    const Reply answered = wait(std::move(reply));
    EXPECT_EQ(answered.status(), 200) << answered.body();
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(db_balance(db_, ids[i]), domain::format_minor_units(expected[i])) << ids[i];
  }
  EXPECT_TRUE(ledger_violations(db_, ids).empty());
  auto stats = std::make_shared<std::promise<actors::WriterStats>>();
  ledger_->inspect_writer([stats](actors::WriterStats s, size_t) { stats->set_value(s); });
  const auto writer = stats->get_future().get();
  EXPECT_EQ(writer.lanes, 4u);
  EXPECT_GE(writer.most_lanes_busy, 2u) << "no two batches were ever written at once";
  EXPECT_EQ(writer.failed_mutations, 0u);
}

TEST_F(LedgerActorsTest, FailedCommitLeavesBothActorsConsistentWithPostgres) {
  auto ids = create_accounts(db_, 2);
  ASSERT_EQ(wait(deposit_async(ids[0], 10'000)).status(), 200);
  // Make the database disagree with the payer's actor, so the transfer's commit is refused.
  {
    pqxx::work txn(db_);
    txn.exec_params("UPDATE users SET balance = balance + 1 WHERE user_id = $1", ids[0]);
    txn.commit();
  }
  Reply failed = wait(transfer_async(ids[0], ids[1], 2'000));
  EXPECT_EQ(failed.status(), 503);
  EXPECT_EQ(db_balance(db_, ids[0]), "101.00");
  EXPECT_EQ(db_balance(db_, ids[1]), "0.00");
  // Both actors reload what Postgres holds, then carry on from there.
  Reply next = wait(transfer_async(ids[0], ids[1], 2'000));
  ASSERT_EQ(next.status(), 200) << next.body();
  EXPECT_EQ(field(next, "from_balance"), "81.00");
  EXPECT_EQ(actor_balance(ids[0]).value(), 8'100);
  EXPECT_EQ(actor_balance(ids[1]).value(), 2'000);
  EXPECT_EQ(db_balance(db_, ids[1]), "20.00");
}

TEST_F(LedgerActorsTest, LockedAccountHoldsOtherMutationsUntilReleased) {
  auto ids = create_accounts(db_, 1);
  ASSERT_EQ(wait(deposit_async(ids[0], 1'000)).status(), 200);
  // Play the coordinator: reserve a debit leg through the registry.
  caf::scoped_actor coordinator{system_};
  actors::ReserveRequest request{"t-1", ids[0], actors::LegRole::debit, 400,
                                 caf::actor_cast<caf::actor>(coordinator)};
  auto registry = ledger_->registry_for_tests();
  coordinator->send(registry, actors::reserve_atom::value, request);
  caf::actor account;
  coordinator->receive(
      [&](actors::reserved_atom, const actors::LegReservation& leg) {
        ASSERT_FALSE(leg.refusal);
        EXPECT_EQ(leg.entry.old_balance, 1'000);
        EXPECT_EQ(leg.entry.new_balance, 600);
        account = leg.account;
      },
      caf::after(10s) >> [] { FAIL() << "no reservation"; });
  auto held = deposit_async(ids[0], 50);
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);  // waits behind the lock
  // Abort: the reservation is undone and the deposit goes on from the old balance.
  coordinator->send(account, actors::release_atom::value, std::string("t-1"), false);
  Reply deposited = wait(std::move(held));
  ASSERT_EQ(deposited.status(), 200);
  EXPECT_EQ(field(deposited, "updated_balance"), "10.50");
}

TEST_F(LedgerActorsTest, IdleActorsAreRetiredAndReloadTheirBalance) {
  ledger_.reset();
  start_ledger(200ms);
  auto ids = create_accounts(db_, 1);
  ASSERT_EQ(wait(deposit_async(ids[0], 900)).status(), 200);
  EXPECT_EQ(snapshots().size(), 1u);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!snapshots().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(snapshots().empty());
  EXPECT_EQ(actor_balance(ids[0]).value(), 900);
  Reply again = wait(deposit_async(ids[0], 100));
  EXPECT_EQ(field(again, "updated_balance"), "10.00");
  EXPECT_TRUE(ledger_violations(db_, ids).empty());
}

}  // namespace
}  // namespace wallet::test
