// AccountFacts (actors/account_facts.hpp): a transaction's checks may use what was read of its
// accounts a moment ago, never longer than `fresh_for`, and never after this instance changed one.
#include "actors/account_facts.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;
using wallet::actors::AccountFacts;
using wallet::persistence::AccountView;

AccountView view(const std::string& id, const std::string& status = "open") {
  AccountView v;
  v.account_id = id;
  v.user_id = "user-" + id;
  v.currency = "EUR";
  v.status = status;
  return v;
}

TEST(AccountFacts, ServesWhatWasReadAndNamesWhatWasNot) {
  AccountFacts facts(10s);
  facts.keep({view("a"), view("b", "frozen")});
  std::vector<std::string> missing;
  auto found = facts.find({"a", "c", "b"}, missing);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].account_id, "a");
  EXPECT_EQ(found[0].user_id, "user-a");
  EXPECT_EQ(found[1].status, "frozen");
  EXPECT_EQ(missing, std::vector<std::string>{"c"});
}

TEST(AccountFacts, AnEntryServesOnlyWhileFresh) {
  AccountFacts facts(30ms);
  facts.keep({view("a")});
  std::vector<std::string> missing;
  EXPECT_EQ(facts.find({"a"}, missing).size(), 1u);
  std::this_thread::sleep_for(60ms);
  missing.clear();
  EXPECT_TRUE(facts.find({"a"}, missing).empty()) << "its status may have changed: read again";
  EXPECT_EQ(missing, std::vector<std::string>{"a"});
}

TEST(AccountFacts, AChangeMadeHereIsNeverServedStale) {
  AccountFacts facts(10s);
  facts.keep({view("a")});
  facts.forget("a");
  std::vector<std::string> missing;
  EXPECT_TRUE(facts.find({"a"}, missing).empty());
  facts.keep({view("a", "closed")});
  missing.clear();
  EXPECT_EQ(facts.find({"a"}, missing).at(0).status, "closed");
}

TEST(AccountFacts, StaysWithinItsCapacity) {
  AccountFacts facts(10s, 2);
  facts.keep({view("a"), view("b")});
  facts.keep({view("c")});  // over capacity: starts over with what was just read
  std::vector<std::string> missing;
  auto found = facts.find({"a", "b", "c"}, missing);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].account_id, "c");
  EXPECT_EQ(missing.size(), 2u);
}

}  // namespace
