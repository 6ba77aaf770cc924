// Unit tests of domain/partitioning: the account -> partition hash is pinned. Postgres computes the
// same function (ledger_partition_of, checked against this one by
// test/integration/persistence/partition_fence_test.cpp); changing either would move accounts
// between owners of a running cluster, so these values must never change.
#include "domain/partitioning.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "domain/ids.hpp"

namespace wallet::domain {
namespace {

// Expected values computed independently: python3 -c "import hashlib;
// print(int(hashlib.md5(b'<uuid>').hexdigest()[:8], 16) % P)".
TEST(PartitioningTest, PinnedValuesOfTheDocumentedHash) {
  EXPECT_EQ(partition_of("3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b", 12), 6);  // 1471707102
  EXPECT_EQ(partition_of("00000000-0000-4000-8000-000000000000", 12), 5);  // 1854945017
  EXPECT_EQ(partition_of("ffffffff-ffff-4fff-bfff-ffffffffffff", 12), 4);  // 1374340864
  EXPECT_EQ(partition_of("0d9e3c34-6a2c-4b8e-9f1d-7c5a2b1e0f93", 12), 9);  // 2685011313
  EXPECT_EQ(partition_of("0d9e3c34-6a2c-4b8e-9f1d-7c5a2b1e0f93", 7), 5);
  EXPECT_EQ(partition_of("0d9e3c34-6a2c-4b8e-9f1d-7c5a2b1e0f93", 1024), 369);
  EXPECT_EQ(partition_of("3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b", 1), 0);
}

TEST(PartitioningTest, CaseOfTheInputDoesNotMatter) {
  EXPECT_EQ(partition_of("3F2B8C1E-9A4D-4E5F-8B6A-1C2D3E4F5A6B", 12), 6);
}

TEST(PartitioningTest, RandomAccountsSpreadOverAllPartitions) {
  std::map<int, int> seen;
  for (int i = 0; i < 12'000; ++i) ++seen[partition_of(new_uuid_v4(), 12)];
  ASSERT_EQ(seen.size(), 12u);
  for (const auto& [partition, count] : seen) {
    EXPECT_GE(partition, 0);
    EXPECT_LT(partition, 12);
    EXPECT_GT(count, 800) << "partition " << partition;  // expected 1000 each
    EXPECT_LT(count, 1200) << "partition " << partition;
  }
}

}  // namespace
}  // namespace wallet::domain
