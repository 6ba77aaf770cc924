// What the ledger-events relay deletes after a pass: an outbox entry that several messages share
// (the rows of one ledger statement, migration 014) only when every one of them was delivered.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "messaging/outbox_publisher.hpp"

namespace wallet::messaging {
namespace {

using Ids = std::vector<int64_t>;

TEST(WhollyDelivered, AnEntryWhoseMessagesAllArrivedGoesOnce) {
  EXPECT_EQ(wholly_delivered({7, 7, 7, 9}, {7, 7, 7, 9}), (Ids{7, 9}));
}

TEST(WhollyDelivered, AnEntryMissingOneMessageStays) {
  // 7's second message was not delivered; 9's was never queued (a produce error stopped the pass).
  EXPECT_EQ(wholly_delivered({7, 7, 7, 8, 9}, {7, 7, 8}), (Ids{8}));
  EXPECT_EQ(wholly_delivered({5, 5}, {}), Ids{});
}

TEST(WhollyDelivered, ReportsOfIdsOutsideTheBatchCountForNothing) {
  EXPECT_EQ(wholly_delivered({3}, {3, 4}), (Ids{3}));
  EXPECT_EQ(wholly_delivered({}, {1}), Ids{});
}

}  // namespace
}  // namespace wallet::messaging
