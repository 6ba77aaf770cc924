// InFlightCounter (in_flight_counter.hpp): the count is an atomic; the mutex and condition
// variable are touched only by drain() and by the release() that brings the count to zero.
#include "runtime/in_flight_counter.hpp"

namespace wallet::runtime {

bool InFlightCounter::try_acquire(size_t max) {
  if (count_.fetch_add(1, std::memory_order_relaxed) >= max) {
    release();  // may be the transition back to zero a drain waits for (max 0)
    return false;
  }
  return true;
}

void InFlightCounter::release() {
  if (count_.fetch_sub(1) != 1 || waiters_.load() == 0) return;
  // Taking the mutex orders this notify after a waiter's check or before it: no lost wake-up.
  std::lock_guard<std::mutex> lock(mutex_);
  drained_.notify_all();
}

bool InFlightCounter::drain(std::chrono::steady_clock::time_point until) {
  if (count_.load() == 0) return true;
  waiters_.fetch_add(1);
  bool drained;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    drained = drained_.wait_until(lock, until, [this] { return count_.load() == 0; });
  }
  waiters_.fetch_sub(1);
  return drained;
}

}  // namespace wallet::runtime
