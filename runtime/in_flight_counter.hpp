// InFlightCounter: how many operations were accepted and not yet answered, bounded, and a way to
// wait until none is left (a service's shutdown drains on it instead of polling).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace wallet::runtime {

class InFlightCounter {
 public:
  // Counts one more unless `max` are in flight already; false (nothing counted) then.
  bool try_acquire(size_t max);
  // One answered. Cheap unless it was the last one and someone drains: only then is the mutex
  // taken.
  void release();
  size_t count() const { return count_.load(std::memory_order_relaxed); }
  // Blocks until nothing is in flight or `until` passes; true when nothing is in flight. Any thread
  // but one whose release() it waits for; several may wait at once.
  bool drain(std::chrono::steady_clock::time_point until);

 private:
  // release() and drain() pair seq_cst operations on count_ and waiters_: either the last release
  // sees the waiter and notifies under the mutex, or the waiter's check sees the count at zero.
  std::atomic<size_t> count_{0};
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable drained_;
};

}  // namespace wallet::runtime
