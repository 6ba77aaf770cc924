// Unit tests of persistence::DbPool without a database: every job is answered exactly once, with
// the classified error when the server is unreachable, at once when the queue is full, and with
// `unavailable` when the pool stops before the job ran. A socket that listens but never speaks
// keeps a worker busy connecting, so the queue can be filled deterministically.
#include "persistence/db_pool.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wallet::persistence {
namespace {

using namespace std::chrono_literals;

// Collects answers; wait_for(n) blocks until n arrived (or 10 s).
class Answers {
 public:
  std::function<void(domain::Result<int>)> callback() {
    return [this](domain::Result<int> result) {
      std::lock_guard<std::mutex> lock(mutex_);
      results_.push_back(std::move(result));
      changed_.notify_all();
    };
  }
  std::vector<domain::Result<int>> wait_for(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return results_.size() >= n; });
    return results_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return results_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<domain::Result<int>> results_;
};

// A loopback port whose handshake the kernel completes but where nobody ever answers: libpq
// waits there for the server's first message until connect_timeout.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  std::string url() const {
    return "postgresql://nobody@127.0.0.1:" + std::to_string(port_) + "/none";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

SessionOptions quick() {
  SessionOptions options;
  options.connect_timeout = 2s;
  return options;
}

std::function<int(pqxx::connection&)> never_runs(std::atomic<int>& ran) {
  return [&ran](pqxx::connection&) { return ++ran; };
}

TEST(DbPoolTest, UnreachableServerAnswersEveryJobOnceAsRetryable) {
  DbPool pool("postgresql://nobody@127.0.0.1:1/none", 2, 100, quick());
  Answers answers;
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) pool.run<int>("test", never_runs(ran), answers.callback());
  const auto results = answers.wait_for(5);
  ASSERT_EQ(results.size(), 5u);
  for (const auto& result : results) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, domain::ErrorCode::unavailable);
  }
  EXPECT_EQ(ran.load(), 0);
  pool.stop();
  EXPECT_EQ(answers.size(), 5u);  // nothing answered twice
}

TEST(DbPoolTest, FullQueueIsRefusedAtOnceAndStopAnswersWhatWasQueued) {
  SilentServer silent;
  DbPool pool(silent.url(), 1, 1, quick());
  Answers busy, queued, refused;
  std::atomic<int> ran{0};
  pool.run<int>("busy", never_runs(ran), busy.callback());  // the one worker waits on the socket
  std::this_thread::sleep_for(200ms);                       // ... once it has taken the job
  pool.run<int>("queued", never_runs(ran), queued.callback());
  const auto started = std::chrono::steady_clock::now();
  pool.run<int>("refused", never_runs(ran), refused.callback());
  // Refused on the caller's thread, before anything else happened.
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
  const auto refusal = refused.wait_for(1)[0];
  ASSERT_FALSE(refusal.ok());
  EXPECT_EQ(refusal.error().code, domain::ErrorCode::unavailable);
  EXPECT_EQ(queued.size(), 0u);
  pool.stop();  // lets the busy job finish (its connect times out), cancels the queued one
  ASSERT_EQ(queued.wait_for(1).size(), 1u);
  EXPECT_EQ(queued.wait_for(1)[0].error().code, domain::ErrorCode::unavailable);
  ASSERT_EQ(busy.wait_for(1).size(), 1u);
  EXPECT_FALSE(busy.wait_for(1)[0].ok());
  EXPECT_EQ(ran.load(), 0);
}

}  // namespace
}  // namespace wallet::persistence
