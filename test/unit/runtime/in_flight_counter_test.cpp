// The in-flight count a service drains at shutdown: the bound refuses without counting, drain
// returns at once when nothing is in flight, wakes when the last one is released, and gives up at
// its deadline when something stays in flight.
#include "runtime/in_flight_counter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace wallet::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(InFlightCounterTest, RefusesBeyondTheBoundWithoutCounting) {
  InFlightCounter counter;
  EXPECT_TRUE(counter.try_acquire(2));
  EXPECT_TRUE(counter.try_acquire(2));
  EXPECT_FALSE(counter.try_acquire(2));
  EXPECT_EQ(counter.count(), 2u);
  counter.release();
  EXPECT_TRUE(counter.try_acquire(2));
  EXPECT_EQ(counter.count(), 2u);
}

TEST(InFlightCounterTest, DrainReturnsAtOnceWhenNothingIsInFlight) {
  InFlightCounter counter;
  const auto started = Clock::now();
  EXPECT_TRUE(counter.drain(started + 10s));
  EXPECT_LT(Clock::now() - started, 1s);
  // A bound of zero refuses everything and leaves the count at zero.
  EXPECT_FALSE(counter.try_acquire(0));
  EXPECT_TRUE(counter.drain(Clock::now()));
}

TEST(InFlightCounterTest, DrainGivesUpAtTheDeadlineWhileSomethingStaysInFlight) {
  InFlightCounter counter;
  ASSERT_TRUE(counter.try_acquire(10));
  const auto started = Clock::now();
  EXPECT_FALSE(counter.drain(started + 100ms));
  EXPECT_GE(Clock::now() - started, 100ms);
  EXPECT_EQ(counter.count(), 1u);
  counter.release();
  EXPECT_TRUE(counter.drain(Clock::now()));
}

TEST(InFlightCounterTest, DrainWakesWhenTheLastOneIsReleased) {
  InFlightCounter counter;
  ASSERT_TRUE(counter.try_acquire(10));
  ASSERT_TRUE(counter.try_acquire(10));
  const auto started = Clock::now();
  auto drained = std::async(std::launch::async, [&] { return counter.drain(started + 20s); });
  std::this_thread::sleep_for(50ms);
  counter.release();
  EXPECT_EQ(drained.wait_for(50ms), std::future_status::timeout);  // one is still in flight
  counter.release();
  ASSERT_EQ(drained.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(drained.get());
  EXPECT_LT(Clock::now() - started, 5s);
}

// Many threads acquiring and releasing while several drain: every drain wakes once they stop (a
// lost wake-up would leave one waiting until its 20 s deadline).
TEST(InFlightCounterTest, EveryDrainWakesUnderConcurrentReleases) {
  for (int round = 0; round < 20; ++round) {
    InFlightCounter counter;
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 2'000; ++i) {
          if (counter.try_acquire(1'000)) counter.release();
        }
      });
    }
    ASSERT_TRUE(counter.try_acquire(1'000));  // held until the workers are done
    const auto started = Clock::now();
    std::vector<std::future<bool>> drains;
    for (int d = 0; d < 3; ++d) {
      drains.push_back(
          std::async(std::launch::async, [&] { return counter.drain(started + 20s); }));
    }
    go = true;
    for (auto& worker : workers) worker.join();
    counter.release();
    for (auto& drain : drains) EXPECT_TRUE(drain.get());
    EXPECT_LT(Clock::now() - started, 10s);
    EXPECT_EQ(counter.count(), 0u);
  }
}

}  // namespace
}  // namespace wallet::runtime
