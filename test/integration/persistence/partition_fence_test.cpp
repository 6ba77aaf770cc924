// The ownership fence against the real Postgres (migration 006, in a scratch schema of
// transaction_service): the SQL hash of accounts to partitions is domain::partition_of's; taking a
// partition bumps its epoch; a commit through LedgerStore (ledger_commit_rows or
// ledger_commit_batch) with a stale or incomplete claim is refused as a whole and changes nothing,
// with a current claim it commits (the negative control of every refusal here); and a take that
// races a batch in flight is ordered after it (the take waits for the batch), proved with a
// negative control: the same race against a copy of the function without its row lock lets the take
// through while the batch is in flight.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "domain/partitioning.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "test/support/environment.hpp"
#include "test/support/scratch_schema.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using persistence::ApplyStatus;
using persistence::EntryKind;
using persistence::LedgerEntry;
using persistence::LedgerMutation;
using persistence::OwnershipClaim;

constexpr int kPartitions = 12;

class PartitionFenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(persistence::init_partitions(conn_, kPartitions), kPartitions);
    // Two accounts in different partitions.
    x_ = domain::new_uuid_v4();
    do {
      y_ = domain::new_uuid_v4();
    } while (partition(y_) == partition(x_));
    for (const auto& id : {x_, y_}) {
      pqxx::nontransaction txn(conn_);
      txn.exec_params("INSERT INTO users (user_id, balance) VALUES ($1, 0)", id);
    }
  }

  static int partition(const std::string& user) { return domain::partition_of(user, kPartitions); }

  // `instance` takes every partition; returns its claim.
  OwnershipClaim take_all(const std::string& instance) {
    OwnershipClaim claim{instance, {}};
    for (int p = 0; p < kPartitions; ++p) {
      claim.epochs.push_back({p, persistence::take_partition(conn_, p, instance)});
    }
    return claim;
  }

  LedgerMutation deposit(const std::string& user, int64_t amount, const std::string& key = "") {
    const int64_t old_balance = balance(user);
    LedgerMutation m;
    m.entries.push_back(LedgerEntry{domain::new_uuid_v4(), user, amount, old_balance,
                                    old_balance + amount, EntryKind::deposit, ""});
    if (!key.empty()) {
      m.outcome = persistence::IdempotencyOutcome{"/addMoney", key, "h", 200, "{}"};
    }
    return m;
  }

  ApplyStatus commit(const LedgerMutation& m, const OwnershipClaim& claim) {
    return store_.apply({&m}, &claim);
  }

  int64_t balance(const std::string& user) {
    pqxx::nontransaction txn(conn_);
    return txn.exec_params1("SELECT (balance * 100)::bigint FROM users WHERE user_id = $1", user)[0]
        .as<int64_t>();
  }
  int64_t count(const std::string& sql) {
    pqxx::nontransaction txn(conn_);
    return txn.exec1(sql)[0].as<int64_t>();
  }

  ScratchSchema schema_{transaction_db_url(), "transaction_service"};
  pqxx::connection conn_{schema_.url()};
  persistence::LedgerStore store_{schema_.url(), std::chrono::milliseconds(10'000)};
  std::string x_, y_;
};

TEST_F(PartitionFenceTest, SqlHashIsTheDomainHash) {
  nlohmann::json ids = nlohmann::json::array();
  std::vector<std::string> users{"3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b",
                                 "00000000-0000-4000-8000-000000000000"};
  for (int i = 0; i < 2'000; ++i) users.push_back(domain::new_uuid_v4());
  for (const auto& u : users) ids.push_back(u);
  pqxx::nontransaction txn(conn_);
  for (int partitions : {1, 7, 12, 1024}) {
    auto rows = txn.exec_params(
        "SELECT u, ledger_partition_of(u::uuid, $2) FROM jsonb_array_elements_text($1::jsonb) u",
        ids.dump(), partitions);
    ASSERT_EQ(rows.size(), users.size());
    for (const auto& row : rows) {
      EXPECT_EQ(row[1].as<int>(), domain::partition_of(row[0].as<std::string>(), partitions))
          << row[0].as<std::string>() << " over " << partitions;
    }
  }
  EXPECT_EQ(txn.exec1("SELECT ledger_partition_of('3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b', 12)")[0]
                .as<int>(),
            6);  // pinned, as in test/unit/domain/partitioning_test.cpp
}

TEST_F(PartitionFenceTest, PartitionCountIsFixedAndATakeBumpsTheEpoch) {
  EXPECT_EQ(persistence::init_partitions(conn_, 6), kPartitions);  // fixed at creation
  EXPECT_EQ(persistence::take_partition(conn_, 3, "a"), 1);
  EXPECT_EQ(persistence::take_partition(conn_, 3, "b"), 2);
  EXPECT_EQ(persistence::take_partition(conn_, 3, "b"), 3);
  auto list = persistence::list_partitions(conn_);
  ASSERT_EQ(list.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(list[3].owner, "b");
  EXPECT_EQ(list[3].epoch, 3);
  EXPECT_FALSE(list[3].taken_at.empty());
  EXPECT_EQ(list[4].owner, "");
  EXPECT_EQ(list[4].epoch, 0);
  EXPECT_THROW(persistence::take_partition(conn_, kPartitions, "a"), pqxx::sql_error);
}

TEST_F(PartitionFenceTest, ACurrentClaimCommits) {
  const auto claim = take_all("a");
  EXPECT_EQ(commit(deposit(x_, 1'000, "k1"), claim), ApplyStatus::committed);
  EXPECT_EQ(commit(deposit(y_, 500), claim), ApplyStatus::committed);
  EXPECT_EQ(balance(x_), 1'000);
  EXPECT_EQ(balance(y_), 500);
}

TEST_F(PartitionFenceTest, AStaleEpochIsRefusedAsAWholeAndChangesNothing) {
  auto claim = take_all("a");
  ASSERT_EQ(commit(deposit(x_, 1'000), claim), ApplyStatus::committed);
  const int64_t rows_before = count("SELECT count(*) FROM transactions");
  // Another instance takes x's partition.
  const int64_t epoch = persistence::take_partition(conn_, partition(x_), "b");

  // A batch with x and y (whose partition did not move) is refused whole, outcomes included.
  auto on_x = deposit(x_, 200, "kx");
  auto on_y = deposit(y_, 300, "ky");
  EXPECT_EQ(store_.apply({&on_x, &on_y}, &claim), ApplyStatus::fenced);
  // So is a batch that touches only y: the claim it carries is stale (a stored refusal names no
  // account, so any stale epoch refuses the instance's commits).
  EXPECT_EQ(commit(deposit(y_, 300), claim), ApplyStatus::fenced);
  LedgerMutation refusal;  // a keyed 409 without rows
  refusal.outcome = persistence::IdempotencyOutcome{"/transferMoney", "k409", "h", 409, "{}"};
  EXPECT_EQ(commit(refusal, claim), ApplyStatus::fenced);
  EXPECT_EQ(balance(x_), 1'000);
  EXPECT_EQ(balance(y_), 0);
  EXPECT_EQ(count("SELECT count(*) FROM transactions"), rows_before);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);

  // The new owner commits with its epoch; the former owner, were it to re-take, too (controls).
  const OwnershipClaim b_claim{"b", {{partition(x_), epoch}}};
  EXPECT_EQ(commit(deposit(x_, 50), b_claim), ApplyStatus::committed);
  EXPECT_EQ(commit(deposit(y_, 50), b_claim), ApplyStatus::fenced);  // y's is not b's
  claim = take_all("a");
  EXPECT_EQ(commit(deposit(x_, 200, "kx"), claim), ApplyStatus::committed);
  EXPECT_EQ(balance(x_), 1'250);
}

TEST_F(PartitionFenceTest, ABatchTouchingAPartitionItDoesNotClaimIsRefused) {
  auto claim = take_all("a");
  // The instance let x's partition go (revoked): it no longer claims it.
  OwnershipClaim without_x{"a", {}};
  for (const auto& [p, e] : claim.epochs) {
    if (p != partition(x_)) without_x.epochs.push_back({p, e});
  }
  EXPECT_EQ(commit(deposit(x_, 100), without_x), ApplyStatus::fenced);
  EXPECT_EQ(commit(deposit(y_, 100), without_x), ApplyStatus::committed);
  // A new hold of x (no balance row moves) and the closing of x's hold are x's partition's too.
  ASSERT_EQ(commit(deposit(x_, 1'000), claim), ApplyStatus::committed);
  LedgerMutation create;
  persistence::HoldRecord hold;
  hold.hold_id = domain::new_uuid_v4();
  hold.from_user_id = x_;
  hold.to_user_id = y_;
  hold.amount = 100;
  hold.expires_at_ms = 4'102'444'800'000;  // 2100
  create.new_holds.push_back(hold);
  EXPECT_EQ(commit(create, without_x), ApplyStatus::fenced);
  ASSERT_EQ(commit(create, claim), ApplyStatus::committed);
  LedgerMutation void_it;
  void_it.hold_changes.push_back({hold.hold_id, "voided", "", 0});
  EXPECT_EQ(commit(void_it, without_x), ApplyStatus::fenced);
  EXPECT_EQ(commit(void_it, claim), ApplyStatus::committed);
}

TEST_F(PartitionFenceTest, AnInstanceThatHoldsNothingCommitsNothingButUnfencedBatchesPass) {
  take_all("a");
  EXPECT_EQ(commit(deposit(x_, 100), OwnershipClaim{"b", {}}), ApplyStatus::fenced);
  // No fence at all: an instance in PARTITION_OWNERSHIP=shared (Postgres' own guards only).
  auto unfenced = deposit(x_, 100);
  EXPECT_EQ(store_.apply({&unfenced}), ApplyStatus::committed);
}

// The race: a batch of the owner is in flight (it passed the fence and waits on a balance row that
// the test holds locked) when another instance takes the partition. Returns whether the take had
// to wait for the batch. Afterwards the batch has committed and the take has completed.
bool take_waits_for_batch_in_flight(const std::string& url, const std::string& user,
                                    const OwnershipClaim& claim, ApplyStatus* batch_status) {
  pqxx::connection blocker(url), taker(url), observer(url);
  persistence::LedgerStore store(url, std::chrono::milliseconds(20'000));
  pqxx::work hold_row(blocker);
  hold_row.exec_params("SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE", user);
  LedgerMutation m;
  m.entries.push_back(
      LedgerEntry{domain::new_uuid_v4(), user, 100, 0, 100, EntryKind::deposit, ""});
  auto batch = std::async(std::launch::async, [&] { return store.apply({&m}, &claim); });
  auto waiting_on_lock = [&](const char* pattern) {
    for (int i = 0; i < 200; ++i) {
      pqxx::nontransaction q(observer);
      if (!q.exec_params("SELECT 1 FROM pg_stat_activity WHERE query LIKE $1"
                         " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                         std::string("%") + pattern + "%")
               .empty()) {
        return true;
      }
      std::this_thread::sleep_for(25ms);
    }
    return false;
  };
  EXPECT_TRUE(waiting_on_lock("ledger_commit_")) << "the batch never reached the row lock";
  auto take = std::async(std::launch::async, [&] {
    return persistence::take_partition(taker, domain::partition_of(user, kPartitions), "b");
  });
  const bool waited = take.wait_for(1s) == std::future_status::timeout;
  hold_row.commit();
  *batch_status = batch.get();
  take.get();
  return waited;
}

TEST_F(PartitionFenceTest, ATakeWaitsForTheBatchInFlightWhichCommitsBeforeTheNewEpoch) {
  const auto claim = take_all("a");
  ApplyStatus status = ApplyStatus::unavailable;
  EXPECT_TRUE(take_waits_for_batch_in_flight(schema_.url(), x_, claim, &status));
  EXPECT_EQ(status, ApplyStatus::committed);  // it committed before the take
  EXPECT_EQ(balance(x_), 100);
  // From the new epoch on, the former owner commits nothing.
  EXPECT_EQ(commit(deposit(x_, 100), claim), ApplyStatus::fenced);
  EXPECT_EQ(balance(x_), 100);
}

TEST_F(PartitionFenceTest, NegativeControlWithoutTheRowLockTheTakeOvertakesTheBatch) {
  // The same race against the fence (ledger_check_fence, which both commit functions call) with
  // its FOR SHARE line removed: the take does not wait, so the old owner's batch commits after the
  // new epoch exists, which the test above rules out. This shows that test can fail.
  {
    pqxx::nontransaction txn(conn_);
    std::string def =
        txn.exec1(
               "SELECT pg_get_functiondef("
               "'ledger_check_fence(text, integer[], bigint[], uuid[])'::regprocedure)")[0]
            .as<std::string>();
    const auto at = def.find("PERFORM 1 FROM partition_owner");
    ASSERT_NE(at, std::string::npos);
    def.erase(at, def.find(';', at) + 1 - at);
    txn.exec(def);
  }
  const auto claim = take_all("a");
  ApplyStatus status = ApplyStatus::unavailable;
  EXPECT_FALSE(take_waits_for_batch_in_flight(schema_.url(), x_, claim, &status));
  EXPECT_EQ(status, ApplyStatus::committed);  // committed under an epoch that had moved
}

TEST_F(PartitionFenceTest, ABatchWaitingOnATakeInProgressIsRefusedOnceTheTakeCommits) {
  const auto claim = take_all("a");
  pqxx::connection taker(schema_.url()), observer(schema_.url());
  pqxx::work take(taker);
  take.exec_params("SELECT partition_take($1, 'b')", partition(x_));
  auto m = deposit(x_, 100);
  auto batch = std::async(std::launch::async, [&] { return store_.apply({&m}, &claim); });
  bool blocked = false;
  for (int i = 0; i < 200 && !blocked; ++i) {
    pqxx::nontransaction q(observer);
    blocked = !q.exec(
                    "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%ledger_commit_%'"
                    " AND wait_event_type = 'Lock'")
                   .empty();
    if (!blocked) std::this_thread::sleep_for(25ms);
  }
  EXPECT_TRUE(blocked) << "the batch did not wait for the take in progress";
  take.commit();
  EXPECT_EQ(batch.get(), ApplyStatus::fenced);
  EXPECT_EQ(balance(x_), 0);
  EXPECT_EQ(count("SELECT count(*) FROM transactions"), 0);
}

}  // namespace
}  // namespace wallet::test
