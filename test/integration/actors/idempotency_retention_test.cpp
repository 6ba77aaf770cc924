// Idempotency outcomes have a retention (IDEMPOTENCY_TTL): within it a key replays its outcome;
// after it the key is a new operation (also before the background purge removed the old row), and
// the purge deletes expired outcomes in small batches, oldest first, leaving fresh ones alone.
// A key this ledger does not remember runs without a lookup (issue 28): an outcome stored under it
// by another run or instance refuses its commit, and that outcome is the answer, while the
// operations committed with it go through.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <vector>

#include "actors/ledger.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "persistence/postgres_ledger_backend.hpp"
#include "persistence/postgres_ledger_records.hpp"
#include "test/support/environment.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet {
namespace {

using actors::Reply;
using namespace std::chrono_literals;

class IdempotencyRetentionTest : public ::testing::Test {
 protected:
  IdempotencyRetentionTest()
      : schema_(test::transaction_db_url(), "transaction_service"),
        pool_(schema_.url(), 2, 1'000),
        db_(schema_.url()) {
    persistence::PostgresLedgerOptions store;
    store.database_url = schema_.url();
    store.idempotency_ttl = std::chrono::hours(24);
    store.purge_batch = 2;
    backend_ = std::make_shared<persistence::PostgresLedgerBackend>(pool_, store);
    actors::LedgerOptions options;
    options.idempotency_ttl = store.idempotency_ttl;
    options.purge_every = 0ms;  // the test calls the purge itself
    ledger_ = std::make_unique<actors::Ledger>(
        system_, std::make_shared<persistence::PostgresLedgerRecords>(pool_), backend_, options);
  }
  ~IdempotencyRetentionTest() override { ledger_.reset(); }

  // A deposit, keyed unless `key` is empty; its request hash is "h<amount>".
  std::future<Reply> deposit_async(const std::string& user, int64_t amount,
                                   const std::string& key) {
    auto promise = std::make_shared<std::promise<Reply>>();
    std::optional<actors::IdempotencyTag> tag;
    if (!key.empty()) tag = actors::IdempotencyTag{"/addMoney", key, "h" + std::to_string(amount)};
    ledger_->deposit({user, amount, tag, [promise](Reply r) { promise->set_value(r); }});
    return promise->get_future();
  }

  static Reply wait(std::future<Reply> f) {
    EXPECT_EQ(f.wait_for(20s), std::future_status::ready);
    return f.get();
  }

  Reply deposit(const std::string& user, int64_t amount, const std::string& key) {
    return wait(deposit_async(user, amount, key));
  }

  // The balance the account's actor answers from its memory.
  int64_t actor_balance(const std::string& user) {
    auto promise = std::make_shared<std::promise<domain::Result<int64_t>>>();
    ledger_->balance({user, [promise](domain::Result<int64_t> r) { promise->set_value(r); }});
    auto f = promise->get_future();
    EXPECT_EQ(f.wait_for(20s), std::future_status::ready);
    auto balance = f.get();
    EXPECT_TRUE(balance) << balance.error().message;
    return balance ? balance.value() : -1;
  }

  // Stores an outcome as if committed `age` ago.
  void store_outcome(const std::string& key, std::chrono::hours age) {
    pqxx::work txn(db_);
    txn.exec_params(
        "INSERT INTO idempotency_keys (endpoint, key, request_hash, status_code, response_body,"
        " created_at) VALUES ('/addMoney', $1, 'h100', 200, '{\"old\":true}',"
        " now() - make_interval(hours => $2))",
        key, static_cast<int>(age.count()));
    txn.commit();
  }

  long outcomes(const std::string& key) {
    pqxx::nontransaction q(db_);
    return q.exec_params1("SELECT count(*) FROM idempotency_keys WHERE key = $1", key)[0]
        .as<long>();
  }

  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  test::ScratchSchema schema_;
  persistence::DbPool pool_;
  pqxx::connection db_;
  std::shared_ptr<persistence::PostgresLedgerBackend> backend_;
  std::unique_ptr<actors::Ledger> ledger_;
};

TEST_F(IdempotencyRetentionTest, KeyWithinRetentionReplaysItsStoredOutcome) {
  auto ids = test::create_accounts(db_, 1);
  const auto key = domain::new_uuid_v4();
  store_outcome(key, std::chrono::hours(23));
  Reply replay = deposit(ids[0], 100, key);
  EXPECT_EQ(replay.status(), 200);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.body(), "{\"old\":true}");
  EXPECT_EQ(test::db_balance(db_, ids[0]), "0.00");  // nothing executed
}

TEST_F(IdempotencyRetentionTest, KeyReusedAfterRetentionIsANewOperation) {
  auto ids = test::create_accounts(db_, 1);
  const auto key = domain::new_uuid_v4();
  store_outcome(key, std::chrono::hours(25));  // expired, not purged yet
  Reply fresh = deposit(ids[0], 100, key);
  ASSERT_EQ(fresh.status(), 200) << fresh.body();
  EXPECT_FALSE(fresh.replayed);
  EXPECT_NE(fresh.body(), "{\"old\":true}");
  EXPECT_EQ(test::db_balance(db_, ids[0]), "1.00");
  EXPECT_EQ(outcomes(key), 1);  // the new outcome replaced the expired one
  Reply again = deposit(ids[0], 100, key);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body(), fresh.body());
}

TEST_F(IdempotencyRetentionTest, PurgeDeletesExpiredOutcomesInSmallBatchesAndKeepsFreshOnes) {
  std::vector<std::string> old_keys, fresh_keys;
  for (int i = 0; i < 5; ++i) {
    old_keys.push_back(domain::new_uuid_v4());
    store_outcome(old_keys.back(), std::chrono::hours(30 + i));
    fresh_keys.push_back(domain::new_uuid_v4());
    store_outcome(fresh_keys.back(), std::chrono::hours(1));
  }
  auto purge = [this] {
    auto promise = std::make_shared<std::promise<size_t>>();
    backend_->purge_expired_outcomes(
        [promise](domain::Result<size_t> n) { promise->set_value(n ? n.value() : 999); });
    return promise->get_future().get();
  };
  EXPECT_EQ(purge(), 2u);  // one batch of purge_batch rows
  EXPECT_EQ(purge(), 2u);
  EXPECT_EQ(purge(), 1u);
  EXPECT_EQ(purge(), 0u);
  for (const auto& key : old_keys) EXPECT_EQ(outcomes(key), 0) << key;
  for (const auto& key : fresh_keys) EXPECT_EQ(outcomes(key), 1) << key;
}

TEST_F(IdempotencyRetentionTest, KeyStoredElsewhereIsAnsweredItsOutcomeWhileBatchMatesCommit) {
  auto ids = test::create_accounts(db_, 2);
  const auto key = domain::new_uuid_v4();
  store_outcome(key, std::chrono::hours(1));  // as another instance (or an earlier run) stored it
  // The keyed deposit among others on its account and on another one: they share batches.
  std::vector<std::future<Reply>> same, other;
  auto keyed = deposit_async(ids[0], 100, key);
  for (int i = 0; i < 30; ++i) {
    same.push_back(deposit_async(ids[0], 7, ""));
    other.push_back(deposit_async(ids[1], 5, ""));
  }
  Reply replay = wait(std::move(keyed));
  EXPECT_EQ(replay.status(), 200);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.body(), "{\"old\":true}");
  // Its account's deposits built on it in memory are refused with it (503, nothing written); the
  // others commit. Whatever each was told, Postgres and the actor agree with the answers.
  int64_t told = 0;
  for (auto& f : same) {
    Reply r = wait(std::move(f));
    ASSERT_TRUE(r.status() == 200 || r.status() == 503) << r.status() << " " << r.body();
    told += r.status() == 200 ? 7 : 0;
  }
  for (auto& f : other) EXPECT_EQ(wait(std::move(f)).status(), 200);
  EXPECT_EQ(test::db_balance(db_, ids[0]), domain::format_minor_units(told));
  EXPECT_EQ(test::db_balance(db_, ids[1]), "1.50");
  EXPECT_EQ(actor_balance(ids[0]), told);
  EXPECT_EQ(actor_balance(ids[1]), 150);
  EXPECT_EQ(outcomes(key), 1);
  // Its retry replays the same stored outcome, now from memory.
  Reply again = deposit(ids[0], 100, key);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body(), "{\"old\":true}");
  EXPECT_EQ(test::db_balance(db_, ids[0]), domain::format_minor_units(told));
}

TEST_F(IdempotencyRetentionTest, AnotherRequestUnderAKeyStoredElsewhereIsRefused422) {
  auto ids = test::create_accounts(db_, 1);
  const auto key = domain::new_uuid_v4();
  store_outcome(key, std::chrono::hours(1));  // request hash h100
  Reply other = deposit(ids[0], 250, key);    // request hash h250
  EXPECT_EQ(other.status(), 422);
  EXPECT_NE(other.body().find("idempotency_key_mismatch"), std::string::npos);
  EXPECT_EQ(test::db_balance(db_, ids[0]), "0.00");
  EXPECT_EQ(actor_balance(ids[0]), 0);
  // The stored outcome is untouched and still answers its own request.
  Reply replay = deposit(ids[0], 100, key);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.body(), "{\"old\":true}");
}

}  // namespace
}  // namespace wallet
