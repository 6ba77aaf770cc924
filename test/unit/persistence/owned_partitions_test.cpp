// OwnedPartitions' read lease (persistence/partition_store.hpp): memory answers reads only while
// the group has confirmed the membership recently, and a read admitted in one generation counts
// only if no revocation came before its answer.
#include <gtest/gtest.h>

#include <chrono>

#include "persistence/partition_store.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using wallet::persistence::OwnedPartitions;

TEST(OwnedPartitionsLease, HoldsAlwaysWithoutKafkaOwnership) {
  OwnedPartitions owned("one", 12);
  EXPECT_TRUE(owned.lease().held);
  owned.break_lease(true);
  EXPECT_TRUE(owned.lease().held);  // one instance: nobody else can take its partitions
}

TEST(OwnedPartitionsLease, HeldOnlyUntilItsInstantOnceRequired) {
  OwnedPartitions owned("a", 12);
  owned.require_lease();
  EXPECT_FALSE(owned.lease().held) << "no commit confirmed the membership yet";
  owned.extend_lease(Clock::now() + 1h);
  EXPECT_TRUE(owned.lease().held);
  owned.extend_lease(Clock::now() - 1s);  // an older result never shortens it
  EXPECT_TRUE(owned.lease().held);

  OwnedPartitions expired("b", 12);
  expired.require_lease();
  expired.extend_lease(Clock::now() - 1ms);
  EXPECT_FALSE(expired.lease().held);
}

TEST(OwnedPartitionsLease, RevocationStartsANewGenerationAndLossEndsTheLease) {
  OwnedPartitions owned("a", 12);
  owned.require_lease();
  owned.extend_lease(Clock::now() + 1h);
  const auto admitted = owned.lease();
  ASSERT_TRUE(admitted.held);
  EXPECT_TRUE(owned.lease_kept(admitted.generation));

  owned.break_lease(false);  // a partition moved in a rebalance: the lease stands
  EXPECT_TRUE(owned.lease().held);
  EXPECT_FALSE(owned.lease_kept(admitted.generation)) << "a read admitted before must re-read";
  EXPECT_TRUE(owned.lease_kept(owned.lease().generation));

  owned.break_lease(true);  // the group removed this member
  EXPECT_FALSE(owned.lease().held);
  owned.extend_lease(Clock::now() + 1h);  // a commit accepted after it rejoined
  EXPECT_TRUE(owned.lease().held);
}

}  // namespace
