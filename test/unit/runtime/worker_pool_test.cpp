// The bounded worker pool: every accepted task runs or is cancelled exactly once, a full or stopped
// pool refuses at once, and a task that throws does not take its worker down.
#include "runtime/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace wallet::runtime {
namespace {

using namespace std::chrono_literals;

// A gate the test opens once: tasks that wait on it hold their worker.
class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool await_waiting(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return waiting_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(WorkerPoolTest, RunsEveryAcceptedTaskOnce) {
  std::atomic<int> ran{0}, cancelled{0};
  {
    WorkerPool pool(3, 1000);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));
    }
    for (int i = 0; i < 500 && ran.load() < 500; ++i) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(ran.load() + cancelled.load(), 500);
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPoolTest, AFullQueueRefusesAtOnceWithoutCallingAnything) {
  Gate gate;
  std::atomic<int> calls{0};
  WorkerPool pool(1, 2);
  ASSERT_TRUE(pool.submit([&] { gate.wait(); }, [] {}));
  ASSERT_TRUE(gate.await_waiting(1));  // the only worker is busy
  EXPECT_TRUE(pool.submit([&] { ++calls; }, [&] { ++calls; }));
  EXPECT_TRUE(pool.submit([&] { ++calls; }, [&] { ++calls; }));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_FALSE(pool.submit([&] { calls += 100; }, [&] { calls += 100; }));  // full
  gate.open();
  pool.stop();
  EXPECT_EQ(calls.load(), 2);  // the two accepted ones, each once; never the refused one
}

TEST(WorkerPoolTest, StopLetsRunningTasksFinishAndCancelsQueuedOnes) {
  Gate gate;
  std::atomic<int> ran{0}, cancelled{0};
  WorkerPool pool(1, 10);
  ASSERT_TRUE(pool.submit(
      [&] {
        gate.wait();
        ++ran;
      },
      [&] { ++cancelled; }));
  ASSERT_TRUE(gate.await_waiting(1));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));
  std::thread opener([&] {
    std::this_thread::sleep_for(50ms);
    gate.open();
  });
  pool.stop();  // waits for the running task, cancels the three queued ones
  opener.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(cancelled.load(), 3);
  EXPECT_FALSE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));  // stopped: refused
  pool.stop();                                                      // idempotent
  EXPECT_EQ(ran.load() + cancelled.load(), 4);
}

TEST(WorkerPoolTest, ATaskThatThrowsDoesNotStopItsWorker) {
  std::atomic<int> ran{0};
  WorkerPool pool(1, 10);
  ASSERT_TRUE(pool.submit([] { throw std::runtime_error("boom"); }, [] {}));
  ASSERT_TRUE(pool.submit([&] { ++ran; }, [] {}));
  for (int i = 0; i < 500 && ran.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace wallet::runtime
