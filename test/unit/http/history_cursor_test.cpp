// Unit tests of the opaque history cursor: it round-trips every seq and refuses anything this
// service did not issue.
#include "http/history_cursor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "http/jwt.hpp"

namespace wallet::http {
namespace {

TEST(HistoryCursorTest, RoundTripsEverySeq) {
  for (int64_t seq : {int64_t{1}, int64_t{9}, int64_t{10}, int64_t{123456789},
                      std::numeric_limits<int64_t>::max()}) {
    auto cursor = encode_history_cursor(seq);
    EXPECT_EQ(cursor.find_first_of("+/="), std::string::npos) << cursor;
    EXPECT_EQ(decode_history_cursor(cursor), seq) << cursor;
  }
}

TEST(HistoryCursorTest, RefusesWhatItDidNotIssue) {
  for (const char* text : {"v1:0", "v1:-1", "v1:01", "v1:+1", "v1:", "v1:1x", "v1: 1", "v2:1", "1",
                           "v1:99999999999999999999"}) {
    EXPECT_FALSE(decode_history_cursor(base64url_encode(text))) << text;
  }
  for (const char* cursor : {"", "abc", "djE6NQ==", "djE6NQ.", "%%%", "12345"}) {
    EXPECT_FALSE(decode_history_cursor(cursor)) << cursor;
  }
  EXPECT_FALSE(decode_history_cursor(std::string(1000, 'A')));
}

}  // namespace
}  // namespace wallet::http
