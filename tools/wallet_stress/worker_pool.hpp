// run_parallel: the setup and check phases' fan-out: `threads` threads, each with its own
// keep-alive HttpSession, take indexes 0..count-1 in order until none is left (or stop is set).
// Given several base URLs (transaction-service instances), thread t talks to urls[t % size], so the
// work is spread over every instance.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tools/wallet_stress/http_session.hpp"

namespace wallet::stress {

template <typename Work>
void run_parallel(size_t count, int threads, const std::vector<std::string>& base_urls,
                  long timeout_ms, Work work) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  const int used =
      static_cast<int>(std::min<size_t>(std::max(threads, 1), std::max<size_t>(count, 1)));
  for (int t = 0; t < used; ++t) {
    pool.emplace_back([&, t] {
      HttpSession session(base_urls[static_cast<size_t>(t) % base_urls.size()], timeout_ms);
      for (size_t i = next++; i < count; i = next++) work(session, i);
    });
  }
  for (auto& thread : pool) thread.join();
}

template <typename Work>
void run_parallel(size_t count, int threads, const std::string& base_url, long timeout_ms,
                  Work work) {
  run_parallel(count, threads, std::vector<std::string>{base_url}, timeout_ms, work);
}

// One keep-alive session per instance, for a worker that picks the instance per request.
class InstanceSessions {
 public:
  InstanceSessions(const std::vector<std::string>& base_urls, long timeout_ms) {
    for (const auto& url : base_urls)
      sessions_.push_back(std::make_unique<HttpSession>(url, timeout_ms));
  }
  HttpSession& at(size_t instance) { return *sessions_[instance]; }
  size_t size() const { return sessions_.size(); }
  long connections_opened() const {
    long total = 0;
    for (const auto& s : sessions_) total += s->connections_opened();
    return total;
  }

 private:
  std::vector<std::unique_ptr<HttpSession>> sessions_;
};

// 429 and 503 are back-pressure and "not now"; status 0 is a lost answer. All three are retried
// with the same idempotency key, which makes the retry safe.
inline bool is_retryable(int status) { return status == 0 || status == 429 || status == 503; }

// Sleep before retry `attempt` (1, 2, ...): 10 ms doubling up to 500 ms.
inline void retry_pause(int attempt) {
  const int ms = std::min(500, 10 << std::min(attempt - 1, 6));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace wallet::stress
