// Polling for an outcome that arrives asynchronously (a consumer catching up, a broker coming
// back): checks `done` every `every` until it holds or `timeout` passed; one last check at the end.
#pragma once

#include <chrono>
#include <thread>

namespace wallet::test {

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace wallet::test
